"""The schema: `Query`, `Mutation` and the error extension, assembled once."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers.account import Account
from resolvers.contact import Contact
from resolvers.extensions import GatewayErrors
from resolvers.mutation import Mutation
from resolvers.query import Query

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Contact, Account],
    extensions=[GatewayErrors],
    config=StrawberryConfig(auto_camel_case=True),
)
