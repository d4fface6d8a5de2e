"""One async connector per provider, behind the protocols of `connectors.protocol`.

Each provider's folder (`connectors/<provider>/`) holds its client, its mapping
to and from the unified model (`gateway.domain.records`) and its settings
schema. Connectors speak the provider's REST API through an injected
`httpx.AsyncClient` (`connectors.http` builds it) and import nothing from
`sandbox`, `resolvers` or Strawberry.

What every connector shares: `base` (the HTTP machinery), `errors` (the error
tree), `budget` (an operation's call limit and deadline), `pacing` (fair turns
at a provider), `masking` (secrets kept out of messages), `settings`,
`protocol` (the seams) and `registry` (one entry per provider).
"""
