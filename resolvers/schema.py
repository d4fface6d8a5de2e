"""The schema: `Query`, `Mutation` and the error extension, assembled once."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers.mutation import Mutation
from resolvers.query import Query
from resolvers.runtime.documents import DocumentCache
from resolvers.runtime.execution import PlainFieldExecution
from resolvers.runtime.extensions import GatewayErrors
from resolvers.types.account import AccountNode
from resolvers.types.contact import ContactNode

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[ContactNode, AccountNode],
    # Frontends send the same few documents again and again: parse and validate them once.
    extensions=[GatewayErrors, DocumentCache],
    config=StrawberryConfig(auto_camel_case=True),
    # Large answers are mostly plain leaf fields: read them without a resolver call each.
    execution_context_class=PlainFieldExecution,
)
