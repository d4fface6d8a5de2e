"""The GraphQL schema and its resolvers, grouped by the type they serve.

Data flows one way: resolver -> dataloader (`resolvers.loaders`) -> connector.
"""
