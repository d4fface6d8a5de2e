"""The write journal as GraphQL: operations, their provider legs, and bulk jobs."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from enum import Enum

import strawberry

from gateway.store import StoreUnavailable
from gateway.store.journal import DONE, OPEN, LegView, OperationView
from resolvers.runtime.context import Info
from resolvers.runtime.errors import BadUserInput, StoreError
from resolvers.types.node import PageInfo
from resolvers.types.scalars import ProviderEnum

MAX_LEGS = 1000


@strawberry.enum(
    description="Where a write operation stands. PENDING: a provider leg is still to be "
    "tried (or tried again); DONE: every leg landed or was skipped; PARTIAL: some legs "
    "failed for good; FAILED: every leg did."
)
class WriteOperationStatus(Enum):
    PENDING = "pending"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"


@strawberry.enum(
    description="Where one provider's part of a write stands: PENDING (not tried yet), "
    "RUNNING (being tried), QUEUED (to be tried again at `nextAttemptAt`), or what the "
    "provider did (CREATED, UPDATED, DELETED, SKIPPED, FAILED)."
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


@strawberry.type(description="One provider's part of a write, for one input.")
class WriteLeg:
    input: int = strawberry.field(
        description="Which input it writes (its index in `inputs`; 0 for one contact)."
    )
    provider: ProviderEnum  # type: ignore[valid-type]
    status: WriteLegStatus
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
    message: str | None
    dropped_fields: list[str]

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
    status: WriteLegStatus
    count: int


@strawberry.type(
    description="A mutation as the write journal keeps it: written down before the first "
    "provider call, with one leg per input and provider."
)
class WriteOperation:
    id: strawberry.ID
    kind: str = strawberry.field(description="The mutation: `upsertContact`, `deleteContact`, ...")
    status: WriteOperationStatus
    created_at: datetime
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
        status: WriteLegStatus | None = None,
        first: int = 100,
        offset: int = 0,
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


@strawberry.enum(
    description="Where a bulk job stands. PENDING: not started; RUNNING: writing; DONE: "
    "every input has a final result at every provider (some may have FAILED: see "
    "`failed`); FAILED: no write of the job landed."
)
class BulkJobStatus(Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@strawberry.type(
    description="A bulk upsert running in the background. Counts are provider writes "
    "(one per input and provider)."
)
class BulkJob:
    id: strawberry.ID
    status: BulkJobStatus
    inputs: int = strawberry.field(description="How many contacts the job writes.")
    total: int = strawberry.field(description="Provider writes in all (inputs x providers).")
    succeeded: int = strawberry.field(description="Writes that landed, or were skipped.")
    failed: int = strawberry.field(description="Writes that failed for good.")
    queued: int = strawberry.field(description="Writes to be tried again.")
    pending: int = strawberry.field(description="Writes not tried yet, or being tried.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
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
