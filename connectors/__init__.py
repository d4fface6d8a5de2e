"""One async connector per provider, behind the `Connector` protocol.

Connectors speak each provider's REST API with an injected `httpx.AsyncClient`
and map records to and from the unified model in `connectors.types`. They
import nothing from `sandbox`, `resolvers` or Strawberry.
"""
