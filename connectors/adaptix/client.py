"""Adaptix (a Mautic fork): contacts, tags, segments, companies, do-not-contact, UTM tags,
points, events and notes.

Adaptix answers lists as `{"total": "N", "contacts": {"<id>": {...}}}` (a string
total, an object keyed by id, `{}` or `[]` when empty) and reads many contacts in
one call with `search=ids:1,2` or `where[0][expr]=in`, always with an explicit
`limit` because the default page is 30. Writes go to `/contacts/new` (which
updates a contact with the same email) and `/contacts/batch/new` (at most 200);
a contact known by id is written through `PATCH /contacts/ID/edit` or
`/contacts/batch/edit`, cleared fields sent blank with `overwriteWithBlank`.
Segments and companies have no batch read: one call per contact.
See docs/providers/adaptix.md.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from connectors.adaptix.mapping import (
    ADDRESS_ALIASES,
    CORE_ALIASES,
    DNC_REASON_CODES,
    FIELD_ALIASES,
    PHONE_ALIASES,
    WEBSITE_ALIAS,
    Record,
    as_int,
    by_index,
    entries,
    is_remote_id,
    item_message,
    quote,
    to_activity,
    to_company,
    to_field,
    to_note,
    to_record,
    to_segment,
    unstored,
    where_params,
)
from connectors.adaptix.settings import AdaptixSettings
from connectors.base import HTTPConnector, basic_auth, with_field_errors
from connectors.errors import BadInput, ConnectorError, NotFound, ProviderError
from connectors.http import ProviderAnswer
from gateway.domain.activity import EVERYTHING, ActivityFilter, FeedPage
from gateway.domain.fields import FieldInfo
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    ActivityKind,
    ActivityRecord,
    CompanyLink,
    ContactChange,
    ContactRecord,
    ContactWrite,
    DoNotContactReason,
    Health,
    Page,
    Provider,
    SearchField,
    TagInfo,
    TagRef,
    UtmWrite,
    WriteResult,
    WriteStatus,
)

T = TypeVar("T")
R = TypeVar("R")

NOTHING_STORABLE = "nothing Adaptix can store was given"
NOTHING_EDITABLE = "nothing given that Adaptix can change"
STATUS_BY_CODE = {201: WriteStatus.CREATED, 200: WriteStatus.UPDATED}
CHANNEL = re.compile(r"^[A-Za-z0-9_.-]+$")
# Most items in one batch call, and most ids or emails in one read (docs/providers/adaptix.md).
BATCH_LIMIT = 200
# Events a page of the global feed is asked to hold.
FEED_PAGE = 100
# Seconds the answer of `list/fields` is kept: fields change rarely, and a write
# with custom fields needs them.
FIELDS_TTL = 300.0


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class AdaptixConnector(HTTPConnector[AdaptixSettings]):
    """Connector for Adaptix's REST API (HTTP Basic with a user's name and password).

    Args:
        client: the shared `httpx.AsyncClient`.
        settings: base URL (`https://INSTANCE.adaptix.ai/api`), `username`,
            `password`; `tag_scan_limit` bounds how many contacts `list_tags`
            reads (default 5000).
    """

    provider = Provider.ADAPTIX
    read_batch_limit = BATCH_LIMIT
    write_batch_limit = BATCH_LIMIT
    search_fields = frozenset(SearchField)
    tag_kind = "tag"
    notes_from = "activity"
    fields_ttl = FIELDS_TTL
    writable_fields = frozenset(
        {
            "email",
            "first_name",
            "last_name",
            "phones",
            "company",
            "job_title",
            "tags",
            "custom_fields",
            "urls",
            "address",
            "owner_id",
        }
    )

    def __init__(self, client: httpx.AsyncClient, settings: AdaptixSettings) -> None:
        super().__init__(client, settings)
        self._fields: list[FieldInfo] | None = None
        self._fields_read = 0.0
        self._fields_lock = asyncio.Lock()
        # The global feed's page size: as asked, until Adaptix answers another.
        self._feed_page = FEED_PAGE

    # -- HTTP pieces ------------------------------------------------------------

    def auth_headers(self) -> Mapping[str, str]:
        return basic_auth(self.settings.username, self.settings.password.get())

    def error_message(self, response: ProviderAnswer) -> str:
        try:
            body = response.json()
        except ValueError:
            return super().error_message(response)
        if isinstance(body, Mapping):
            errors = body.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
                message = errors[0].get("message")
                if isinstance(message, str) and message:
                    return with_field_errors(message, errors[0].get("details"))
        return super().error_message(response)

    async def list_fields(self) -> list[FieldInfo]:
        """The contact fields this Adaptix instance has, by their `order`: read once
        every `fields_ttl` seconds, however many requests ask."""
        async with self._fields_lock:
            now = time.monotonic()
            if self._fields is None or now - self._fields_read >= self.fields_ttl:
                body = await self.get_json("/contacts/list/fields")
                if isinstance(body, Mapping) and "fields" in body:
                    body = body["fields"]
                listed = sorted(
                    entries(body), key=lambda i: (as_int(i.get("order")), as_int(i.get("id")))
                )
                self._fields = [f for f in map(to_field, listed) if f is not None]
                self._fields_read = now
            return list(self._fields)

    async def field_aliases(self) -> frozenset[str]:
        """The contact field aliases this Adaptix instance knows."""
        return frozenset(f.alias for f in await self.list_fields())

    async def to_payload(self, contact: ContactWrite) -> tuple[dict[str, Any], list[str]]:
        """The `/contacts/new` body for `contact`, and the given fields it cannot carry.

        Raises:
            ConnectorError: the field list was needed and could not be read.
        """
        payload: dict[str, Any] = {}
        dropped = self.unwritable(contact)
        for name, alias in FIELD_ALIASES:
            value = getattr(contact, name)
            if value is None:
                continue
            # Adaptix skips blank values unless asked to overwrite: not stored.
            if value.strip():
                payload[alias] = value
            else:
                dropped.append(name)
        for index, phone in enumerate(contact.phones or ()):
            if index < len(PHONE_ALIASES) and phone.strip():
                payload[PHONE_ALIASES[index]] = phone
            else:
                dropped.append(f"phones[{index}]")
        for index, url in enumerate(contact.urls or ()):
            if index == 0:
                payload[WEBSITE_ALIAS] = url
            else:
                dropped.append(f"urls[{index}]")  # Adaptix keeps one website
        if contact.address is not None:
            for part, alias in ADDRESS_ALIASES:
                value = getattr(contact.address, part)
                if value is not None:
                    payload[alias] = value
        owner = (contact.owner_id or "").strip()
        if owner.isascii() and owner.isdigit():
            payload["owner"] = int(owner)  # Adaptix user ids are numbers
        elif contact.owner_id is not None:
            dropped.append("owner_id")
        tags: list[str] = []
        for index, tag in enumerate(contact.tags or ()):
            # A leading "-" would remove the tag instead of adding it.
            if tag.strip() and not tag.strip().startswith("-"):
                tags.append(tag)
            else:
                dropped.append(f"tags[{index}]")
        if tags:
            # Tags in a write are only ever added: an empty list would change nothing.
            payload["tags"] = tags
        if contact.custom_fields:
            known = await self.field_aliases()
            for alias, value in contact.custom_fields.items():
                # Adaptix silently ignores an alias it does not know.
                storable = isinstance(value, str | int | float | bool)
                if alias in known and alias not in CORE_ALIASES and storable:
                    payload[alias] = value
                else:
                    dropped.append(f"custom_fields.{alias}")
        return payload, dropped

    async def edit_payload(self, change: ContactChange) -> tuple[dict[str, Any], list[str]]:
        """The `PATCH /contacts/ID/edit` body for `change`, and the given fields it cannot
        carry. A cleared field or address part is sent blank, with `overwriteWithBlank`
        (without it Adaptix skips blank values); phones replace both phone fields, the
        first url the website; a cleared owner is sent as `owner: null`.

        Raises:
            ConnectorError: the field list was needed and could not be read.
        """
        payload: dict[str, Any] = {}
        writable = self.writable_fields - {"tags"}
        dropped = [name for name in change.given() if name not in writable]
        for name, alias in FIELD_ALIASES:
            if change.has(name):
                payload[alias] = change.get(name) or ""
        if change.has("phones"):
            phones = change.get("phones") or ()
            for index, alias in enumerate(PHONE_ALIASES):
                payload[alias] = phones[index] if index < len(phones) else ""
            dropped += [f"phones[{i}]" for i in range(len(PHONE_ALIASES), len(phones))]
        if change.has("urls"):
            urls = change.get("urls") or ()
            payload[WEBSITE_ALIAS] = urls[0] if urls else ""
            dropped += [f"urls[{i}]" for i in range(1, len(urls))]  # Adaptix keeps one website
        aliases = dict(ADDRESS_ALIASES)
        for part, value in change.address().items():
            payload[aliases[part]] = value or ""
        if change.has("owner_id"):
            owner = change.get("owner_id")
            if owner is None:
                payload["owner"] = None  # a blank owner is no user id, which Adaptix refuses
            elif owner.strip().isascii() and owner.strip().isdigit():
                payload["owner"] = int(owner)  # Adaptix user ids are numbers
            else:
                dropped.append("owner_id")
        custom = change.get("custom_fields") or {}
        if custom:
            known = await self.field_aliases()
            for alias, value in custom.items():
                storable = value is None or isinstance(value, str | int | float | bool)
                if alias in known and alias not in CORE_ALIASES and storable:
                    payload[alias] = "" if value is None else value
                else:
                    dropped.append(f"custom_fields.{alias}")
        if any(value == "" for value in payload.values()):
            payload["overwriteWithBlank"] = True
        return payload, dropped

    def written(
        self, status: int, record: Any, payload: Mapping[str, Any], dropped: Sequence[str]
    ) -> WriteResult:
        if status not in STATUS_BY_CODE or not isinstance(record, Mapping):
            return self.failed(f"unexpected answer (HTTP {status})", dropped=dropped)
        contact = to_record(record)
        return WriteResult(
            self.provider,
            STATUS_BY_CODE[status],
            remote_id=contact.remote_id,
            dropped_fields=(*dropped, *unstored(payload, record)),
            contact=contact,
        )

    # -- reads ------------------------------------------------------------------

    async def collect(self, params: list[tuple[str, Any]], page_size: int) -> list[Record]:
        """Every contact `GET /contacts` answers for `params`, page by page."""
        records: list[Record] = []
        start = 0
        while True:
            page = [*params, ("start", start), ("limit", page_size)]
            body = await self.get_json("/contacts", params=page)
            found = entries(body.get("contacts")) if isinstance(body, Mapping) else []
            total = as_int(body.get("total")) if isinstance(body, Mapping) else 0
            records.extend(found)
            start += len(found)
            if not found or start >= total:
                return records

    async def collect_many(
        self, keys: Sequence[str], params: Callable[[str], list[tuple[str, Any]]]
    ) -> list[Record]:
        """Every contact for `keys`, one call per 200 keys: `params` of a comma list."""
        if not keys:
            return []
        if len(keys) <= BATCH_LIMIT:  # the usual lookup: no task for one call
            return await self.collect(params(",".join(keys)), len(keys))
        pages = await asyncio.gather(
            *(
                self.collect(params(",".join(chunk)), len(chunk))
                for chunk in chunks(keys, BATCH_LIMIT)
            )
        )
        return [record for page in pages for record in page]

    async def fetch_by_ids(self, ids: Sequence[str]) -> Mapping[str, ContactRecord]:
        wanted: dict[str, list[str]] = {}
        for remote_id in ids:
            if is_remote_id(remote_id):
                wanted.setdefault(str(int(remote_id)), []).append(remote_id)
        found: dict[str, ContactRecord] = {}
        for record in await self.collect_many(list(wanted), lambda ids: [("search", "ids:" + ids)]):
            contact = to_record(record)
            for asked in wanted.get(contact.remote_id, ()):
                found[asked] = contact
        return found

    async def fetch_by_emails(
        self, emails: Sequence[str], *, brief: bool = False
    ) -> Mapping[str, ContactRecord]:
        """Contacts by email, 200 a call; `brief` asks for `minimal` records, as
        `list_contacts` does (about a quarter of the bytes)."""
        keys = list(
            dict.fromkeys(
                key for key in map(normalize_email, emails) if key is not None and "," not in key
            )
        )
        minimal = [("minimal", "true")] if brief else []
        records = await self.collect_many(
            keys, lambda emails: [*where_params("email", "in", emails), *minimal]
        )
        found: dict[str, ContactRecord] = {}
        asked = set(keys)
        for record in sorted(records, key=lambda r: as_int(r.get("id"))):
            contact = to_record(record)
            key = contact.email_key
            if key in asked and key not in found:
                found[key] = contact
        return found

    async def search(self, by: SearchField, value: str) -> list[ContactRecord]:
        value = value.strip()
        if not value:
            return []
        params: list[tuple[str, Any]]
        if by is SearchField.EMAIL:
            params = where_params("email", "eq", value)
        elif by is SearchField.COMPANY:
            params = where_params("company", "eq", value)
        elif by is SearchField.TAG:
            params = [("search", "tag:" + quote(value))]
        elif by is SearchField.UPDATED_SINCE:
            return await self._changed_since(value)
        else:
            params = [("search", value)]
        params += [("orderBy", "id"), ("orderByDir", "asc")]
        return [to_record(r) for r in await self.collect(params, BATCH_LIMIT)]

    async def _changed_since(self, since: str) -> list[ContactRecord]:
        """Contacts changed (`date_modified`) or created (`date_added`, as Adaptix leaves
        `date_modified` empty until the first change) after `since`: two searches."""
        order = [("orderBy", "id"), ("orderByDir", "asc")]
        changed, created = await asyncio.gather(
            self.collect([*where_params("date_modified", "gt", since), *order], BATCH_LIMIT),
            self.collect([*where_params("date_added", "gt", since), *order], BATCH_LIMIT),
        )
        unique = {str(r.get("id")): r for r in (*changed, *created)}
        return [to_record(r) for r in unique.values()]

    async def list_contacts(self, *, cursor: str | None, limit: int, brief: bool = False) -> Page:
        """The contacts after the id `cursor` (from the first one when None), by id:
        `where id gt` keeps paging right when contacts are deleted or added between
        pages. `brief` asks for `minimal` records: no tags, do-not-contact entries or
        grouped fields, about a quarter of the bytes (every core field is still in
        `fields.all`)."""
        contacts, remaining = await self._by_id(cursor, limit, brief, after=True)
        positions = [c.remote_id for c in contacts]
        more = bool(contacts) and remaining > len(contacts)
        total = remaining if cursor is None else None  # every contact, on the first page
        return Page(contacts, positions[-1] if more else None, total, positions)

    async def list_contacts_before(
        self, *, cursor: str | None, limit: int, brief: bool = False
    ) -> Page:
        """The `limit` contacts right before the id `cursor` (the last ones when None),
        read by id descending (`where id lt`) and answered in id order."""
        contacts, remaining = await self._by_id(cursor, limit, brief, after=False)
        positions = [c.remote_id for c in contacts]
        more = bool(contacts) and remaining > len(contacts)
        return Page(contacts, positions[0] if more else None, None, positions)

    async def _by_id(
        self, cursor: str | None, limit: int, brief: bool, *, after: bool
    ) -> tuple[list[ContactRecord], int]:
        """Up to `limit` contacts after (or before) the id `cursor`, in id order, and
        how many lie that way of it in all (Adaptix's `total` for the `where`)."""
        if cursor is not None and not is_remote_id(cursor):
            raise BadInput(f"not a cursor of this provider: {cursor!r}", provider=self.provider)
        params: list[tuple[str, Any]] = [
            ("limit", max(1, limit)),
            ("orderBy", "id"),
            ("orderByDir", "asc" if after else "desc"),
        ]
        if cursor is not None:
            params = [*where_params("id", "gt" if after else "lt", str(int(cursor))), *params]
        if brief:
            params.append(("minimal", "true"))
        body = await self.get_json("/contacts", params=params)
        if not isinstance(body, Mapping):
            body = {}
        contacts = sorted(
            (to_record(r) for r in entries(body.get("contacts"))),
            key=lambda c: as_int(c.remote_id),
        )
        return contacts, as_int(body.get("total"))

    async def count_contacts(self) -> int:
        """How many contacts Adaptix holds: the `total` of a one-contact page."""
        body = await self.get_json("/contacts", params=[("limit", 1), ("minimal", "true")])
        return as_int(body.get("total")) if isinstance(body, Mapping) else 0

    async def list_tags(self) -> list[TagInfo]:
        limit = self.settings.tag_scan_limit
        counts: Counter[str] = Counter()
        ids: dict[str, str | None] = {}
        cursor: str | None = None
        seen = 0
        while seen < limit:
            page = await self.list_contacts(cursor=cursor, limit=min(BATCH_LIMIT, limit - seen))
            for contact in page.contacts:
                for tag in contact.tags:
                    counts[tag.name] += 1
                    ids.setdefault(tag.name, tag.id)
            seen += len(page.contacts)
            cursor = page.next_cursor
            if cursor is None:
                break
        return [
            TagInfo(self.provider, name, "tag", id=ids[name], count=counts[name])
            for name in sorted(counts)
        ]

    async def fetch_activity(
        self, remote_ids: Sequence[str], *, limit: int, wanted: ActivityFilter = EVERYTHING
    ) -> Mapping[str, list[ActivityRecord]]:
        """Events (`/activity`, filtered by date at Adaptix) and notes (`/notes`, which
        take no date filter: read newest first until past `since`), merged; a kind not
        wanted is not read."""
        ids = list(dict.fromkeys(i for i in remote_ids if is_remote_id(i)))
        if limit <= 0 or wanted.empty:
            return {remote_id: [] for remote_id in ids}
        results = await asyncio.gather(*(self._activity(i, limit, wanted) for i in ids))
        return {i: items for i, items in zip(ids, results, strict=True) if items is not None}

    async def _activity(
        self, remote_id: str, limit: int, wanted: ActivityFilter
    ) -> list[ActivityRecord] | None:
        reads = []
        if wanted.wants(ActivityKind.EVENT):
            reads.append(self._events(remote_id, limit, wanted))
        if wanted.wants(ActivityKind.NOTE):
            reads.append(self._notes(remote_id, limit, wanted))
        try:
            found = await asyncio.gather(*reads)
        except NotFound:
            return None
        items = [item for part in found for item in part if wanted.admits(item)]
        items.sort(key=lambda item: item.timestamp, reverse=True)
        return items[:limit]

    async def _events(
        self, remote_id: str, limit: int, wanted: ActivityFilter
    ) -> list[ActivityRecord]:
        """The newest `limit` events, page by page should Adaptix hold a page shorter."""
        params = [
            ("limit", limit),
            ("order[0]", "timestamp"),
            ("order[1]", "DESC"),
            *_date_filters(wanted),
        ]
        items: list[ActivityRecord] = []
        page = 1
        while True:
            body = await self.get_json(
                f"/contacts/{remote_id}/activity", params=[*params, ("page", page)]
            )
            events = _listed(body, "events")
            items.extend(filter(None, (to_activity(remote_id, e) for e in events)))
            if len(items) >= limit or not events or page >= _max_pages(body):
                return items
            page += 1

    async def _notes(
        self, remote_id: str, limit: int, wanted: ActivityFilter
    ) -> list[ActivityRecord]:
        """The newest `limit` notes within the bounds; notes newer than `until` are read
        past, page by page, as Adaptix cannot filter notes by date."""
        items: list[ActivityRecord] = []
        start = 0
        while True:
            params = {"start": start, "limit": limit, "orderBy": "dateTime", "orderByDir": "desc"}
            body = await self.get_json(f"/contacts/{remote_id}/notes", params=params)
            notes = _listed(body, "notes")
            for note in filter(None, (to_note(remote_id, n) for n in notes)):
                if wanted.since is not None and note.timestamp < wanted.since:
                    return items  # newest first: every note from here on is older
                if wanted.admits(note):
                    items.append(note)
            start += len(notes)
            total = as_int(body.get("total")) if isinstance(body, Mapping) else 0
            if len(items) >= limit or not notes or start >= total:
                return items

    async def activity_feed(self, *, offset: int, limit: int, wanted: ActivityFilter) -> FeedPage:
        """Every contact's events (`GET /contacts/activity`), newest first, from the
        `offset`-th on. Adaptix keeps no feed of every contact's notes: asked for notes
        only, the feed is empty and no call is made."""
        if limit <= 0 or wanted.empty or not wanted.wants(ActivityKind.EVENT):
            return FeedPage([], 0)
        size = self._feed_page
        params = [
            ("limit", FEED_PAGE),
            ("orderBy", "timestamp"),
            ("orderByDir", "DESC"),
            *_date_filters(wanted),
        ]
        page, skip = divmod(offset, size)
        page += 1
        events: list[Record] = []
        resized = False
        while True:
            body = await self.get_json("/contacts/activity", params=[*params, ("page", page)])
            answered = as_int(body.get("limit"), size) if isinstance(body, Mapping) else size
            if not events and not resized and 0 < answered != size:
                resized = True
                # The docs name no `limit` for this path: page by the size it holds.
                size = self._feed_page = answered
                page, skip = divmod(offset, size)
                page += 1
                continue
            listed = _listed(body, "events")
            total = as_int(body.get("total")) if isinstance(body, Mapping) else 0
            events.extend(listed)
            if len(events) - skip >= limit or not listed or page >= _max_pages(body):
                break
            page += 1
        items = [
            item
            for event in events[skip : skip + limit]
            if (item := to_activity(_contact_of(event), event)) is not None and wanted.admits(item)
        ]
        return FeedPage(items, max(total, offset + len(items)))

    async def fetch_segments(self, remote_ids: Sequence[str]) -> Mapping[str, list[TagRef]]:
        """`GET /contacts/ID/segments` for each contact (no batch read exists)."""
        return await self._per_contact(remote_ids, self._segments)

    async def _segments(self, remote_id: str) -> list[TagRef]:
        body = await self.get_json(f"/contacts/{remote_id}/segments")
        return [s for s in map(to_segment, _listed(body, "lists")) if s is not None]

    async def fetch_companies(self, remote_ids: Sequence[str]) -> Mapping[str, list[CompanyLink]]:
        """`GET /contacts/ID/companies` for each contact (no batch read exists); the
        primary association first."""
        return await self._per_contact(remote_ids, self._companies)

    async def _companies(self, remote_id: str) -> list[CompanyLink]:
        body = await self.get_json(f"/contacts/{remote_id}/companies")
        found = [c for c in map(to_company, _listed(body, "companies")) if c is not None]
        return sorted(found, key=lambda c: not c.is_primary)

    async def _per_contact(
        self, remote_ids: Sequence[str], read: Callable[[str], Awaitable[R]]
    ) -> dict[str, R]:
        """`read` for each distinct Adaptix id at once; a contact Adaptix does not
        hold (404) is left out."""
        ids = list(dict.fromkeys(i for i in remote_ids if is_remote_id(i)))

        async def one(remote_id: str) -> R | None:
            try:
                return await read(remote_id)
            except NotFound:
                return None

        answers = await asyncio.gather(*(one(i) for i in ids))
        return {i: found for i, found in zip(ids, answers, strict=True) if found is not None}

    # -- writes -----------------------------------------------------------------

    async def upsert(self, contact: ContactWrite) -> WriteResult:
        try:
            payload, dropped = await self.to_payload(contact)
        except ConnectorError as exc:
            return self.failed(exc, dropped=self.unwritable(contact))
        if not payload:
            return self.skipped(NOTHING_STORABLE, dropped=dropped)
        try:
            response = await self.request("POST", "/contacts/new", json=payload)
            body = self.decode(response)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)
        record = body.get("contact") if isinstance(body, Mapping) else None
        return self.written(response.status_code, record, payload, dropped)

    async def plan(self, contact: ContactWrite, existing: ContactRecord | None) -> WriteResult:
        """What `upsert` would report: `to_payload` decides what is dropped (text Adaptix
        would trim away or truncate is only known from its answer)."""
        try:
            payload, dropped = await self.to_payload(contact)
        except ConnectorError as exc:
            return self.failed(exc, dropped=self.unwritable(contact))
        if not payload:
            return self.skipped(NOTHING_STORABLE, dropped=dropped)
        status = WriteStatus.CREATED if existing is None else WriteStatus.UPDATED
        return WriteResult(self.provider, status, dropped_fields=tuple(dropped))

    async def edit(self, contact: ContactRecord, change: ContactChange) -> WriteResult:
        """`PATCH /contacts/ID/edit` with the given fields; cleared ones sent blank."""
        if not is_remote_id(contact.remote_id):
            return self.failed(f"not an Adaptix contact id: {contact.remote_id!r}")
        try:
            payload, dropped = await self.edit_payload(change)
        except ConnectorError as exc:
            return self.failed(exc, dropped=[n for n in change.given() if n == "custom_fields"])
        if not payload:
            return self.skipped(NOTHING_EDITABLE, dropped=dropped)
        try:
            response = await self.request(
                "PATCH", f"/contacts/{contact.remote_id}/edit", json=payload
            )
            body = self.decode(response)
        except NotFound:
            return self.failed("not found", dropped=dropped)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)
        record = body.get("contact") if isinstance(body, Mapping) else None
        sent = {k: v for k, v in payload.items() if k != "overwriteWithBlank"}
        return self.written(response.status_code, record, sent, dropped)

    async def upsert_by_ids(self, items: Sequence[tuple[str, ContactWrite]]) -> list[WriteResult]:
        """Upserts written onto known contacts: `PATCH /contacts/ID/edit` for one,
        `PATCH /contacts/batch/edit` (200 a call) for more; a contact that is gone
        (404) is created again through `upsert_many`."""
        contacts = [contact for _, contact in items]
        try:
            prepared = [await self.to_payload(c) for c in contacts]
        except ConnectorError as exc:
            return [self.failed(exc, dropped=self.unwritable(c)) for c in contacts]
        results: list[WriteResult | None] = [None] * len(items)
        sendable: list[int] = []
        for index, (payload, dropped) in enumerate(prepared):
            if payload and is_remote_id(items[index][0]):
                sendable.append(index)
            elif payload:
                results[index] = self.failed(f"not an Adaptix contact id: {items[index][0]!r}")
            else:
                results[index] = self.skipped(NOTHING_STORABLE, dropped=dropped)
        gone: list[int] = []
        if len(sendable) == 1:
            index = sendable[0]
            payload, dropped = prepared[index]
            try:
                response = await self.request(
                    "PATCH", f"/contacts/{items[index][0]}/edit", json=payload
                )
                body = self.decode(response)
                record = body.get("contact") if isinstance(body, Mapping) else None
                results[index] = self.written(response.status_code, record, payload, dropped)
            except NotFound:
                gone.append(index)
            except ConnectorError as exc:
                results[index] = self.failed(exc, dropped=dropped)
        elif sendable:
            ids = {i: int(items[i][0]) for i in sendable}
            batches = chunks(sendable, BATCH_LIMIT)
            answers = await asyncio.gather(*(self._batch(b, prepared, ids) for b in batches))
            for batch, answer in zip(batches, answers, strict=True):
                for index, result in zip(batch, answer, strict=True):
                    if result is None:
                        gone.append(index)
                    else:
                        results[index] = result
        if gone:
            again = await self.upsert_many([contacts[i] for i in gone])
            for index, result in zip(gone, again, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    async def upsert_many(self, contacts: Sequence[ContactWrite]) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(contacts)
        try:
            prepared = [await self.to_payload(c) for c in contacts]
        except ConnectorError as exc:
            return [self.failed(exc, dropped=self.unwritable(c)) for c in contacts]
        sendable: list[int] = []
        for index, (payload, dropped) in enumerate(prepared):
            if payload:
                sendable.append(index)
            else:
                results[index] = self.skipped(NOTHING_STORABLE, dropped=dropped)
        batches = chunks(sendable, BATCH_LIMIT)
        answers = await asyncio.gather(*(self._batch(b, prepared) for b in batches))
        for batch, answer in zip(batches, answers, strict=True):
            for index, result in zip(batch, answer, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    async def _batch(
        self,
        indexes: Sequence[int],
        prepared: Sequence[tuple[dict[str, Any], list[str]]],
        ids: Mapping[int, int] | None = None,
    ) -> list[WriteResult | None]:
        """One batch call: `batch/new`, or with `ids` (item index -> contact id)
        `PATCH batch/edit`. An edited contact that is gone (404) answers None."""
        if ids is None:
            method, path = "POST", "/contacts/batch/new"
            payloads = [prepared[i][0] for i in indexes]
        else:
            method, path = "PATCH", "/contacts/batch/edit"
            payloads = [{"id": ids[i], **prepared[i][0]} for i in indexes]
        try:
            response = await self.request(method, path, json=payloads)
            body = self.decode(response)
            if not isinstance(body, Mapping):
                raise ProviderError("answered the batch without a result", provider=self.provider)
        except ConnectorError as exc:
            return [self.failed(exc, dropped=prepared[i][1]) for i in indexes]
        count = len(indexes)
        errors = by_index(body.get("errors"), count)
        failed = set(errors)
        records = by_index(body.get("contacts"), count, failed)
        codes = by_index(body.get("statusCodes"), count, failed)
        results: list[WriteResult | None] = []
        for position, index in enumerate(indexes):
            payload, dropped = prepared[index]
            error = errors.get(position)
            if ids is not None and isinstance(error, Mapping) and as_int(error.get("code")) == 404:
                results.append(None)
            elif position in errors:
                results.append(self.failed(item_message(error), dropped=dropped))
            else:
                code = as_int(codes.get(position), -1)
                results.append(self.written(code, records.get(position), payload, dropped))
        return results

    async def delete(self, contact: ContactRecord) -> WriteResult:
        if not is_remote_id(contact.remote_id):
            return self.failed(f"not an Adaptix contact id: {contact.remote_id!r}")
        try:
            answer = self.decode(
                await self.request("DELETE", f"/contacts/{contact.remote_id}/delete")
            )
        except ConnectorError as exc:
            return self.failed(exc)
        record = answer.get("contact") if isinstance(answer, Mapping) else None
        mapped = to_record(record) if isinstance(record, Mapping) else None
        if mapped is not None:
            # Adaptix answers the removed record, whose id may already be gone.
            mapped.remote_id = contact.remote_id
        return WriteResult(
            self.provider, WriteStatus.DELETED, remote_id=contact.remote_id, contact=mapped
        )

    async def tag(
        self, contact: ContactRecord, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> WriteResult:
        if not is_remote_id(contact.remote_id):
            return self.failed(f"not an Adaptix contact id: {contact.remote_id!r}")
        names = [*add, *remove]
        if not names:
            return self.skipped("no tags to add or remove")
        if any(not n.strip() or n.strip().startswith("-") for n in names):
            return self.failed("Adaptix cannot store a blank tag or one that starts with '-'")
        tags = [*add, *("-" + name for name in remove)]
        return await self._contact_write(
            "PATCH", f"/contacts/{contact.remote_id}/edit", {"tags": tags}, contact.remote_id
        )

    async def set_do_not_contact(
        self,
        remote_id: str,
        *,
        channel: str,
        enabled: bool,
        comments: str | None = None,
        reason: DoNotContactReason | None = None,
        channel_id: str | None = None,
    ) -> WriteResult:
        if not is_remote_id(remote_id):
            return self.failed(f"not an Adaptix contact id: {remote_id!r}")
        if not CHANNEL.match(channel):
            return self.failed(f"not an Adaptix channel: {channel!r}")
        if reason is not None and reason not in DNC_REASON_CODES:
            return self.failed(f"Adaptix has no do-not-contact reason {reason.name}")
        if channel_id is not None and not is_remote_id(channel_id):
            return self.failed(f"not an Adaptix channel id: {channel_id!r}")
        action = "add" if enabled else "remove"
        details = {"comments": comments, "reason": reason, "channel_id": channel_id}
        body: dict[str, Any] = {}
        if enabled:
            if comments is not None:
                body["comments"] = comments
            if reason is not None:
                body["reason"] = DNC_REASON_CODES[reason]
            if channel_id is not None:
                body["channelId"] = int(channel_id)
        result = await self._contact_write(
            "POST", f"/contacts/{remote_id}/dnc/{channel}/{action}", body, remote_id
        )
        given = tuple(name for name, value in details.items() if value is not None)
        if given and not enabled and result.status is WriteStatus.UPDATED:
            # The remove endpoint takes no details: they go nowhere.
            return replace(
                result,
                dropped_fields=given,
                message="Adaptix keeps comments, reason and channel id only on a "
                "do-not-contact entry being added",
            )
        return result

    async def add_points(
        self,
        remote_id: str,
        delta: int,
        *,
        event_name: str | None = None,
        action_name: str | None = None,
    ) -> WriteResult:
        if not is_remote_id(remote_id):
            return self.failed(f"not an Adaptix contact id: {remote_id!r}")
        if delta == 0:
            return self.skipped("no points to add")
        direction = "plus" if delta > 0 else "minus"
        # The documents spell the parameters eventName/actionName for plus, and
        # eventname/actionname for minus.
        names = ("eventName", "actionName") if delta > 0 else ("eventname", "actionname")
        body = {
            key: value for key, value in zip(names, (event_name, action_name), strict=True) if value
        }
        try:
            response = await self.request(
                "POST", f"/contacts/{remote_id}/points/{direction}/{abs(delta)}", json=body
            )
            answer = self.decode(response)
        except ConnectorError as exc:
            return self.failed(exc)
        if isinstance(answer, Mapping) and answer.get("success") is False:
            return self.failed("Adaptix did not change the points")
        return WriteResult(self.provider, WriteStatus.UPDATED, remote_id=remote_id)

    async def add_utm_tags(self, remote_id: str, utm: UtmWrite) -> WriteResult:
        if not is_remote_id(remote_id):
            return self.failed(f"not an Adaptix contact id: {remote_id!r}")
        body = utm_body(utm)
        if not any(key != "lastActive" for key in body):
            return self.skipped("no UTM parameter given")
        return await self._contact_write("POST", f"/contacts/{remote_id}/utm/add", body, remote_id)

    async def remove_utm_tag(self, remote_id: str, utm_id: str) -> WriteResult:
        if not is_remote_id(remote_id):
            return self.failed(f"not an Adaptix contact id: {remote_id!r}")
        if not is_remote_id(utm_id):
            return self.failed(f"not an Adaptix UTM tag id: {utm_id!r}")
        try:
            answer = self.decode(
                await self.request("POST", f"/contacts/{remote_id}/utm/{int(utm_id)}/remove")
            )
        except NotFound:
            return self.failed(f"Adaptix has no UTM tag {int(utm_id)} on this contact")
        except ConnectorError as exc:
            return self.failed(exc)
        record = answer.get("contact") if isinstance(answer, Mapping) else None
        contact = to_record(record) if isinstance(record, Mapping) else None
        return WriteResult(self.provider, WriteStatus.UPDATED, remote_id=remote_id, contact=contact)

    async def _contact_write(
        self, method: str, path: str, body: Mapping[str, Any], remote_id: str
    ) -> WriteResult:
        try:
            answer = self.decode(await self.request(method, path, json=body))
        except ConnectorError as exc:
            return self.failed(exc)
        record = answer.get("contact") if isinstance(answer, Mapping) else None
        contact = to_record(record) if isinstance(record, Mapping) else None
        return WriteResult(
            self.provider,
            WriteStatus.UPDATED,
            remote_id=contact.remote_id if contact else remote_id,
            contact=contact,
        )

    async def check_health(self) -> Health:
        return await self.timed_health("/contacts", params={"limit": 1})


def utm_body(utm: UtmWrite) -> dict[str, Any]:
    """The `utm/add` body for `utm`: the documented parameter names, given values only."""
    body: dict[str, Any] = {}
    for name, key in (
        ("campaign", "utm_campaign"),
        ("source", "utm_source"),
        ("medium", "utm_medium"),
        ("content", "utm_content"),
        ("term", "utm_term"),
        ("user_agent", "useragent"),
        ("url", "url"),
        ("referer", "referer"),
        ("remote_host", "remotehost"),
    ):
        value = getattr(utm, name)
        if value is not None and value.strip():
            body[key] = value
    if utm.query:
        body["query"] = utm.query if isinstance(utm.query, str) else dict(utm.query)
    if utm.last_active is not None:
        # The documented format: 2017-01-17T00:30:08+00:00.
        body["lastActive"] = utm.last_active.astimezone(UTC).isoformat(timespec="seconds")
    return body


def _listed(body: Any, key: str) -> list[Record]:
    return entries(body.get(key) if isinstance(body, Mapping) else None)


def _max_pages(body: Any) -> int:
    return as_int(body.get("maxPages"), 1) if isinstance(body, Mapping) else 1


def _contact_of(event: Record) -> str:
    contact_id = as_int(event.get("contactId"))
    return str(contact_id) if contact_id > 0 else ""


def _date_filters(wanted: ActivityFilter) -> list[tuple[str, str]]:
    """`filters[dateFrom]` and `filters[dateTo]` for the bounds, in UTC (`Y-m-d H:i:s`).

    Adaptix's timestamps are whole seconds, so each bound is rounded to the whole
    second inside it: Adaptix then answers exactly the events within the bounds."""
    params = []
    if wanted.since is not None and (since := _whole_second(wanted.since, up=True)):
        params.append(("filters[dateFrom]", since))
    if wanted.until is not None and (until := _whole_second(wanted.until, up=False)):
        params.append(("filters[dateTo]", until))
    return params


def _whole_second(moment: datetime, *, up: bool) -> str | None:
    try:
        at = moment.astimezone(UTC)
        if up and at.microsecond:
            at = at.replace(microsecond=0) + timedelta(seconds=1)
    except OverflowError:  # at the very edge of the calendar: no bound worth sending
        return None
    return f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at:%H:%M:%S}"
