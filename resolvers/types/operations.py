"""The write journal as GraphQL: operations, their provider legs, and bulk jobs."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated

import strawberry

from gateway.store import StoreUnavailable
from gateway.store.journal import DONE, OPEN, LegView, OperationView
from resolvers.runtime.context import Info
from resolvers.runtime.errors import BadUserInput, StoreError
from resolvers.runtime.internals import describe_enum_values
from resolvers.types.node import PageInfo
from resolvers.types.scalars import ProviderEnum

MAX_LEGS = 1000


@strawberry.enum(description="Where a write operation stands, from the statuses of its legs.")
class WriteOperationStatus(Enum):
    PENDING = "pending"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"


# Described apart from the members: the journal is asked by their values, as text.
describe_enum_values(
    WriteOperationStatus,
    {
        WriteOperationStatus.PENDING: "A provider leg is still to be tried, or tried again.",
        WriteOperationStatus.DONE: "Every leg landed or was skipped.",
        WriteOperationStatus.PARTIAL: "Some legs failed for good; the others landed or were "
        "skipped.",
        WriteOperationStatus.FAILED: "Every leg failed for good.",
    },
)


@strawberry.enum(
    description="Where one provider's part of a write stands: still to be tried, or what "
    "the provider did."
)
class WriteLegStatus(Enum):
    PENDING = "pending"
    RUNNING = "running"
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    SKIPPED = "skipped"
    QUEUED = "queued"
    FAILED = "failed"


describe_enum_values(
    WriteLegStatus,
    {
        WriteLegStatus.PENDING: "Not tried yet (a bulk job's legs wait here).",
        WriteLegStatus.RUNNING: "Being tried now.",
        WriteLegStatus.CREATED: "The provider created a contact.",
        WriteLegStatus.UPDATED: "The provider changed a contact.",
        WriteLegStatus.DELETED: "The provider deleted its record.",
        WriteLegStatus.SKIPPED: "Nothing was sent: the provider cannot take it (see `message`).",
        WriteLegStatus.QUEUED: "Failed in a way another try may mend; tried again at "
        "`nextAttemptAt`.",
        WriteLegStatus.FAILED: "Failed for good: the provider refused, or trying again ran "
        "out of time.",
    },
)


@strawberry.type(description="One provider's part of a write, for one input.")
class WriteLeg:
    input: int = strawberry.field(
        description="Which input it writes (its index in `inputs`; 0 for one contact)."
    )
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider it writes to."
    )
    status: WriteLegStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Tries made so far.")
    last_error: str | None = strawberry.field(
        description="The provider's last message, while the leg is QUEUED or once FAILED."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When a QUEUED leg is tried again."
    )
    remote_id: strawberry.ID | None = strawberry.field(
        description="The provider's id of the record written."
    )
    message: str | None = strawberry.field(
        description="The message of the provider's result, as `ProviderWriteResult.message`; "
        "null until it has one."
    )
    dropped_fields: list[str] = strawberry.field(
        description="The input fields the provider did not store, as "
        "`ProviderWriteResult.droppedFields`; empty until the leg has a result."
    )

    @classmethod
    def of(cls, leg: LegView) -> WriteLeg:
        return cls(
            input=leg.item,
            provider=leg.provider,
            status=WriteLegStatus(leg.status),
            attempts=leg.attempts,
            last_error=leg.last_error,
            next_attempt_at=leg.next_attempt_at,
            remote_id=strawberry.ID(leg.remote_id) if leg.remote_id else None,
            message=leg.message,
            dropped_fields=leg.dropped,
        )


@strawberry.type(description="How many of an operation's legs are in one status.")
class WriteLegCount:
    status: WriteLegStatus = strawberry.field(description="The status counted.")
    count: int = strawberry.field(description="How many legs are in it.")


@strawberry.type(
    description="A mutation as the write journal keeps it: written down before the first "
    "provider call, with one leg per input and provider."
)
class WriteOperation:
    id: strawberry.ID = strawberry.field(
        description="The operation's id: a mutation's `operationId`, what "
        "`writeOperation(id:)` takes."
    )
    kind: str = strawberry.field(description="The mutation: `upsertContact`, `deleteContact`, ...")
    status: WriteOperationStatus = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(
        description="When it was written down, before the first provider call."
    )
    finished_at: datetime | None = strawberry.field(
        description="When the last leg reached its final status."
    )
    caller: str | None = strawberry.field(
        description="The API key's or token's name that sent it (with `[auth]`)."
    )
    inputs: int = strawberry.field(description="How many contacts it writes.")
    counts: list[WriteLegCount] = strawberry.field(
        description="Its legs counted by status (statuses with no leg left out)."
    )

    @strawberry.field(
        description="Its provider legs, by input then provider; `status` picks the legs in "
        "that status (e.g. the FAILED ones of a large operation)."
    )
    async def legs(
        self,
        info: Info,
        status: Annotated[
            WriteLegStatus | None,
            strawberry.argument(description="Only the legs in this status (all when left out)."),
        ] = None,
        first: Annotated[
            int, strawberry.argument(description=f"How many legs (1 to {MAX_LEGS}).")
        ] = 100,
        offset: Annotated[
            int, strawberry.argument(description="How many legs to pass over first.")
        ] = 0,
    ) -> list[WriteLeg]:
        journal = info.context.runtime.journal
        if journal is None:
            return []
        if not 0 < first <= MAX_LEGS:
            raise BadUserInput(f"first must be between 1 and {MAX_LEGS}", field="first")
        if offset < 0:
            raise BadUserInput("offset must not be negative", field="offset")
        try:
            found = await journal.legs(
                str(self.id),
                status=status.value if status is not None else None,
                offset=offset,
                limit=first,
            )
        except StoreUnavailable as exc:
            raise StoreError(str(exc)) from None
        return [WriteLeg.of(leg) for leg in found]

    @classmethod
    def of(cls, view: OperationView) -> WriteOperation:
        return cls(
            id=strawberry.ID(view.id),
            kind=view.kind,
            status=WriteOperationStatus(view.status),
            created_at=view.created_at,
            finished_at=view.finished_at,
            caller=view.caller,
            inputs=view.inputs,
            counts=[
                WriteLegCount(status=WriteLegStatus(s), count=n)
                for s, n in sorted(view.counts.items())
                if n
            ],
        )


@strawberry.type(description="One write operation of a page, with its cursor.")
class WriteOperationEdge:
    cursor: str = strawberry.field(description="Where this operation is: for `after` or `before`.")
    node: WriteOperation = strawberry.field(description="The operation.")


@strawberry.type(description="A page of write operations, newest first.")
class WriteOperationConnection:
    edges: list[WriteOperationEdge] = strawberry.field(
        description="The page's operations, with cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where the page starts and ends.")

    @strawberry.field(description="The page's operations, without cursors.")
    def nodes(self) -> list[WriteOperation]:
        return [edge.node for edge in self.edges]


def operation_cursor(operation_id: str) -> str:
    return base64.urlsafe_b64encode(f"op:{operation_id}".encode()).decode()


def operation_after(cursor: str | None, field: str = "after") -> str | None:
    """The operation id a `writeOperations` cursor stands for."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("op:") or len(text) > 64:
        raise BadUserInput(f"{field}: not a cursor of writeOperations", field=field)
    return text[3:]


@strawberry.enum(description="Where a bulk job stands.")
class BulkJobStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Not started yet.")
    RUNNING = strawberry.enum_value(
        "running", description="Writing, or waiting to try QUEUED writes again."
    )
    DONE = strawberry.enum_value(
        "done",
        description="Every input has a final result at every provider; some may have "
        "failed (see `failed`).",
    )
    FAILED = strawberry.enum_value("failed", description="No write of the job landed.")


@strawberry.type(
    description="A bulk upsert running in the background. Counts are provider writes "
    "(one per input and provider)."
)
class BulkJob:
    id: strawberry.ID = strawberry.field(
        description="The job's id: what `bulkJob(id:)` and `writeOperation(id:)` take."
    )
    status: BulkJobStatus = strawberry.field(description="Where it stands.")
    inputs: int = strawberry.field(description="How many contacts the job writes.")
    total: int = strawberry.field(description="Provider writes in all (inputs x providers).")
    succeeded: int = strawberry.field(description="Writes that landed, or were skipped.")
    failed: int = strawberry.field(description="Writes that failed for good.")
    queued: int = strawberry.field(description="Writes to be tried again.")
    pending: int = strawberry.field(description="Writes not tried yet, or being tried.")
    created_at: datetime = strawberry.field(
        description="When `startBulkUpsert` wrote the job down."
    )
    started_at: datetime | None = strawberry.field(
        description="When the gateway began writing it; null while PENDING."
    )
    finished_at: datetime | None = strawberry.field(
        description="When its last write reached its final status; null until then."
    )
    estimated_finish_at: datetime | None = strawberry.field(
        description="When the job should be done, from each provider's pace so far (or "
        "its configured rate limit before the first batch); null once done."
    )

    @classmethod
    def of(cls, view: OperationView, estimate: timedelta | None) -> BulkJob:
        counts = view.counts
        total = sum(counts.values())
        open_legs = sum(counts[s] for s in OPEN)
        failed = counts["failed"]
        if view.started_at is None:
            status = BulkJobStatus.PENDING
        elif open_legs:
            status = BulkJobStatus.RUNNING
        elif total and failed == total:
            status = BulkJobStatus.FAILED
        else:
            status = BulkJobStatus.DONE
        finished = None if open_legs else view.finished_at
        return cls(
            id=strawberry.ID(view.id),
            status=status,
            inputs=view.inputs,
            total=total,
            succeeded=sum(counts[s] for s in DONE),
            failed=failed,
            queued=counts["queued"],
            pending=counts["pending"] + counts["running"],
            created_at=view.created_at,
            started_at=view.started_at,
            finished_at=finished,
            estimated_finish_at=None
            if not open_legs or estimate is None
            else datetime.now(UTC) + estimate,
        )
