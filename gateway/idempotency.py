"""Idempotency keys: a mutation sent again with the same `Idempotency-Key` is answered
with its first answer, and writes nothing.

As in the IETF draft "The Idempotency-Key HTTP Header Field" and Stripe's API:

- the same key with the same request (query, variables, operation name) within
  `[writes] idempotency_ttl` (24 h) gets the first answer again, with
  `Idempotent-Replayed: true`;
- the same key with another request: 422, `IDEMPOTENCY_KEY_REUSED`;
- the same key while its first request still runs: 409, `IDEMPOTENCY_KEY_IN_USE`.

Keys belong to a caller (an API key's or token's name): two callers may use the
same key. A request refused before it ran (bad input, a limit, no scope) keeps
nothing, so it can be mended and sent again under the same key; one that may
have written keeps its answer, or, when it ended without one (its client left,
the gateway stopped), an error saying so: its writes are not sent twice. A key
on a query is ignored (a query is safe to send again).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError, OperationType, parse
from graphql.utilities import get_operation_ast

from gateway.store import StoreUnavailable
from gateway.store.journal import Journal
from resolvers.runtime.extensions import CLIENT_ERRORS

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
# Printable ASCII, as header values are; long enough for a UUID with a prefix.
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


@dataclass(frozen=True, slots=True)
class Refusal:
    """The request may not run: an HTTP status, a message and a GraphQL error code."""

    status: int
    message: str
    code: str


@dataclass(frozen=True, slots=True)
class Claim:
    """What a key says: run the request (`replay` None) and then `keep` its answer, or
    answer with `replay` (the first answer's body)."""

    key: str
    replay: bytes | None = None


async def claim(
    journal: Journal | None,
    header: str,
    caller: str | None,
    body: bytes,
    *,
    ttl: float,
    max_tokens: int,
) -> Claim | Refusal | None:
    """The verdict on a request that came with `Idempotency-Key: header`; None when the
    key does not apply (the request is not a mutation)."""
    payload = _payload(body)
    if payload is None or not _is_mutation(payload, max_tokens):
        return None
    value = header.strip().strip('"')  # the draft sends it as a quoted string
    if not _KEY.fullmatch(value):
        return Refusal(
            400, "Idempotency-Key must be 1 to 200 printable ASCII characters", "BAD_REQUEST"
        )
    if journal is None:
        return Refusal(
            400, "this gateway keeps no store, so it cannot honour Idempotency-Key", "BAD_REQUEST"
        )
    key = f"{caller or '-'}:{value}"
    digest = hashlib.sha256(
        orjson.dumps(
            [payload.get("query"), payload.get("variables"), payload.get("operationName")],
            option=orjson.OPT_SORT_KEYS,
        )
    ).hexdigest()
    try:
        verdict = await journal.claim_key(key, digest, ttl=ttl)
    except StoreUnavailable as exc:
        return Refusal(503, f"the idempotency key cannot be checked: {exc}", "STORE_UNAVAILABLE")
    if verdict.verdict == "new":
        return Claim(key)
    if verdict.verdict == "replay" and verdict.response is not None:
        return Claim(key, replay=verdict.response.encode())
    if verdict.verdict == "in_use":
        return Refusal(
            409,
            "a request with this Idempotency-Key is still running; ask again once it answered",
            "IDEMPOTENCY_KEY_IN_USE",
        )
    return Refusal(
        422,
        "this Idempotency-Key was used with another request; use a new key for a new request",
        "IDEMPOTENCY_KEY_REUSED",
    )


# Kept for a key whose first request ended without an answer (its client left, or the
# gateway stopped): its writes were carried out or queued all the same, so a retry
# must not send them again.
UNANSWERED = orjson.dumps(
    {
        "data": None,
        "errors": [
            {
                "message": "the first request with this Idempotency-Key ended before its "
                "answer (the client left, or the gateway stopped or failed); its writes were "
                "carried out or queued all the same: see writeOperations",
                "extensions": {"code": "IDEMPOTENT_REQUEST_UNANSWERED"},
            }
        ],
    }
).decode()
# Errors that refuse a request before any write: the key may then be used again.
REFUSED_BEFORE_WRITING = CLIENT_ERRORS | {"UNAUTHENTICATED"}


async def keep(journal: Journal, key: str, status: int, body: bytes | None) -> None:
    """Keep what a retry with `key` is answered (`kept`), or forget the key when the
    request was refused before anything ran."""
    try:
        await journal.finish_key(key, kept(status, body))
    except StoreUnavailable:
        return  # the key stays "in use" until its time runs out; nothing is replayed wrong


def kept(status: int, body: bytes | None) -> str | None:
    """The answer a key keeps: the first one when the operation answered (a timeout's
    too: its writes went on in the journal), `UNANSWERED` when no answer was given
    (status 0), the gateway was stopping or failed (5xx); None (forget the key) only
    for a request refused before it ran (a 4xx, or errors that all refuse it)."""
    if status == 200 and body is not None:
        payload = _payload(body)
        if payload is None:
            return UNANSWERED
        if payload.get("data") is not None:
            return body.decode()
        codes = {
            (error.get("extensions") or {}).get("code")
            for error in payload.get("errors") or []
            if isinstance(error, dict)
        }
        return None if codes and codes <= REFUSED_BEFORE_WRITING else body.decode()
    if 400 <= status < 500:
        return None
    return UNANSWERED


def _payload(body: bytes) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _is_mutation(payload: dict[str, Any], max_tokens: int) -> bool:
    query = payload.get("query")
    name = payload.get("operationName")
    if not isinstance(query, str) or not (name is None or isinstance(name, str)):
        return False
    try:
        operation = get_operation_ast(parse(query, no_location=True, max_tokens=max_tokens), name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is OperationType.MUTATION
