"""The GraphQL schema and its resolvers, in three kinds of module.

    types/     the GraphQL types, thin: fields, descriptions, conversions
    services/  the work: lookups, listings, write fan-outs (no GraphQL types)
    runtime/   the engine: runtime state and per-request context, dataloaders,
               cursors, errors, execution hooks and extensions
    query.py, mutation.py, schema.py   the roots, and the schema assembled once

Data flows one way: resolver -> service -> dataloader -> connector.
"""
