"""One async connector per provider, behind the protocols of `connectors.protocol`.

Each provider's folder (`connectors/<provider>/`) holds its client, its mapping
to and from the unified model (`gateway.domain.records`) and its settings
schema. Connectors speak the provider's REST API through an injected
`httpx.AsyncClient` (`connectors.http` builds it) and import nothing from
`sandbox`, `resolvers` or Strawberry.
"""
