"""Trustmary: contacts read by email or in pages of 1000, upserts keyed by email, lists
(docs/providers/trustmary.md).

Trustmary has no fetch by many emails: a few emails cost one call each, many
cost whole pages (1000 contacts a call), whichever needs fewer calls. Tags are
Trustmary lists, written by list id; the connector maps names to ids through
`GET /lists` once per connector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import httpx

from connectors.base import JSON, HTTPConnector, OneByOneWrites
from connectors.errors import BadInput, ConnectorError, NotFound, ProviderError
from connectors.trustmary.mapping import to_record
from connectors.trustmary.settings import TrustmarySettings
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    ContactChange,
    ContactRecord,
    ContactWrite,
    Health,
    Page,
    Provider,
    TagInfo,
    WriteResult,
    WriteStatus,
)

_ACTIONS = {"IMPORT_CREATE": WriteStatus.CREATED, "IMPORT_UPDATE": WriteStatus.UPDATED}
NEEDS_EMAIL = "Trustmary needs an email to store a contact"
KEYED_BY_EMAIL = (
    "Trustmary keys contacts by email and cannot change one (a new email would be a new "
    "contact): it keeps the one it has"
)
NOTHING_EDITABLE = "nothing given that Trustmary can change"
NO_UNTYPED = "every Trustmary contact is a customer or an employee: its type cannot be cleared"
DELETED = "the contact is deleted in Trustmary: writing to it would bring it back"
# ContactWrite field -> Trustmary body key, for the fields an edit sets or clears as given.
_EDITED = (("external_id", "eid"), ("company", "company"))


class TrustmaryConnector(OneByOneWrites, HTTPConnector[TrustmarySettings]):
    """Trustmary's contacts API (`Authorization: Apikey <key>`)."""

    provider = Provider.TRUSTMARY
    tag_kind = "list"
    writable_fields = frozenset(
        {"email", "external_id", "first_name", "last_name", "phones", "company", "tags", "type"}
    )
    PAGE_SIZE: ClassVar[int] = 1000

    def __init__(self, client: httpx.AsyncClient, settings: TrustmarySettings) -> None:
        super().__init__(client, settings)
        self._list_ids: dict[str, str] | None = None
        # Pages a full read took last time: what reading pages costs, against one
        # call per email. One until a read has reached the end.
        self._pages = 1
        self._lists_lock = asyncio.Lock()

    def auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Apikey {self.settings.api_key.get()}"}

    # -- reads ----------------------------------------------------------------

    async def fetch_by_emails(
        self, emails: Sequence[str], *, brief: bool = False
    ) -> Mapping[str, ContactRecord]:
        """Contacts by email, in the fewest calls: one call per email when that is
        fewer calls than reading every page of 1000, whole pages otherwise (`brief`
        changes nothing: Trustmary has one shape of contact).

        Returns:
            The contacts found, keyed by the normalized email.
        """
        wanted = list(dict.fromkeys(e for e in map(normalize_email, emails) if e))
        if not wanted:
            return {}
        if len(wanted) == 1:  # the usual lookup: no task for one call
            contact = await self._fetch_one(wanted[0])
            return {wanted[0]: contact} if contact else {}
        if len(wanted) < self._pages:
            found = await asyncio.gather(*(self._fetch_one(email) for email in wanted))
            return {email: contact for email, contact in zip(wanted, found, strict=True) if contact}
        return await self._scan_for(set(wanted))

    async def _fetch_one(self, email: str) -> ContactRecord | None:
        try:
            records = await self._get_page({"email": email})
        except BadInput:
            # Trustmary refuses a malformed address; no contact can have it.
            return None
        for record in records:
            if normalize_email(record.get("email")) == email:
                return to_record(record)
        return None

    async def _scan_for(self, wanted: set[str]) -> dict[str, ContactRecord]:
        found: dict[str, ContactRecord] = {}
        offset = 0
        while True:
            records = await self._get_page({"offset": offset})
            for record in records:
                key = normalize_email(record.get("email"))
                if key in wanted and key not in found:
                    found[key] = to_record(record)
            if len(records) < self.PAGE_SIZE:
                self._pages = offset // self.PAGE_SIZE + 1
                return found
            if len(found) == len(wanted):
                self._pages = max(self._pages, offset // self.PAGE_SIZE + 1)
                return found
            offset += self.PAGE_SIZE

    async def fetch_by_external_ids(self, ids: Sequence[str]) -> Mapping[str, ContactRecord]:
        """Contacts by `eid`: Trustmary cannot look one up, so its pages are read
        until every id is found (docs/providers/trustmary.md)."""
        wanted = set(filter(None, (i.strip() for i in ids)))
        found: dict[str, ContactRecord] = {}
        offset = 0
        while wanted - found.keys():
            records = await self._get_page({"offset": offset})
            for record in records:
                eid = record.get("eid")
                if isinstance(eid, str) and eid.strip() in wanted and eid.strip() not in found:
                    found[eid.strip()] = to_record(record)
            if len(records) < self.PAGE_SIZE:
                break
            offset += self.PAGE_SIZE
        return found

    async def list_contacts(self, *, cursor: str | None, limit: int, brief: bool = False) -> Page:
        """The contacts after position `cursor`, to the end of its page of 1000
        (Trustmary has no page size: `limit` is ignored, and its records have one form:
        `brief` changes nothing).

        Trustmary pages by offset only, and a delete only marks a contact deleted: read
        with `includeAll=true`, deleted contacts keep their places, so an offset names
        the same contact from one page to the next. A position is the offset of the
        next contact; deleted ones are read past and left out.
        """
        offset = _parse_position(cursor, self.provider)
        page_start = (offset // self.PAGE_SIZE) * self.PAGE_SIZE
        records = await self._get_page({"offset": page_start, "includeAll": "true"})
        full = len(records) >= self.PAGE_SIZE
        contacts, positions = [], []
        for index in range(offset - page_start, len(records)):
            if records[index].get("status") == "deleted":
                continue
            contacts.append(to_record(records[index]))
            positions.append(str(page_start + index + 1))
        end = str(page_start + len(records))
        if full and not contacts:  # nothing left on this page but deleted contacts
            return await self.list_contacts(cursor=end, limit=limit, brief=brief)
        return Page(contacts, end if full else None, None, positions)

    async def list_contacts_before(
        self, *, cursor: str | None, limit: int, brief: bool = False
    ) -> Page:
        """The contacts before position `cursor` (the contact at offset `cursor - 1`
        and those after it left out), back to the start of their page of 1000; `cursor`
        None: the last page, found by reading every page (Trustmary does not say how
        many contacts it holds)."""
        if cursor is None:
            offset, records = 0, await self._get_page({"offset": 0, "includeAll": "true"})
            while len(records) >= self.PAGE_SIZE:
                offset += self.PAGE_SIZE
                following = await self._get_page({"offset": offset, "includeAll": "true"})
                if not following:
                    offset -= self.PAGE_SIZE
                    break
                records = following
            page_start, end = offset, offset + len(records)
        else:
            end = _parse_position(cursor, self.provider) - 1
            if end <= 0:
                return Page([], None, None, [])
            page_start = ((end - 1) // self.PAGE_SIZE) * self.PAGE_SIZE
            records = await self._get_page({"offset": page_start, "includeAll": "true"})
        contacts, positions = [], []
        for index in range(min(end, page_start + len(records)) - page_start):
            if records[index].get("status") == "deleted":
                continue
            contacts.append(to_record(records[index]))
            positions.append(str(page_start + index + 1))
        before = str(page_start + 1) if page_start > 0 else None
        if before is not None and not contacts:  # nothing on this page but deleted contacts
            return await self.list_contacts_before(cursor=before, limit=limit, brief=brief)
        return Page(contacts, before, None, positions)

    async def _get_page(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        body = await self.get_json("/contacts", params=params)
        records = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ProviderError(
                "answered without a contacts list", provider=self.provider, status=200
            )
        return [r for r in records if isinstance(r, dict) and r.get("id") is not None]

    # -- lists ------------------------------------------------------------------

    async def list_tags(self) -> list[TagInfo]:
        """Every Trustmary list that is not deleted, with its contact count."""
        lists = await self._fetch_lists()
        return [
            TagInfo(
                self.provider,
                name=str(item["name"]),
                kind="list",
                id=str(item["id"]),
                count=item["count"] if isinstance(item.get("count"), int) else None,
            )
            for item in lists
        ]

    async def _fetch_lists(self) -> list[dict[str, Any]]:
        body = await self.get_json("/lists")
        if not isinstance(body, list):
            raise ProviderError("answered without a list of lists", provider=self.provider)
        lists = [
            item
            for item in body
            if isinstance(item, dict)
            and item.get("id") is not None
            and isinstance(item.get("name"), str)
            and not item.get("deleted_at")
        ]
        self._list_ids = {str(item["name"]): str(item["id"]) for item in lists}
        return lists

    async def _list_id_map(self) -> dict[str, str]:
        async with self._lists_lock:
            if self._list_ids is None:
                await self._fetch_lists()
            assert self._list_ids is not None
            return self._list_ids

    async def _resolve_lists(self, names: Sequence[str]) -> list[str | None]:
        """List ids for names (exact, else case-insensitive); None where unknown."""
        if not names:
            return []
        ids = await self._list_id_map()
        folded = {name.casefold(): list_id for name, list_id in ids.items()}
        return [ids.get(name) or folded.get(name.strip().casefold()) for name in names]

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactWrite) -> WriteResult:
        """Create or update by email; tags become list memberships (`addToLists`)."""
        if not contact.email or not contact.email.strip():
            return self.skipped(NEEDS_EMAIL)
        email = contact.email.strip()
        dropped = self._unsent(contact)
        payload: dict[str, Any] = {"email": email}
        try:
            name = await self._full_name(contact, email)
            if name is not None:
                payload["name"] = name
            if contact.external_id is not None:
                payload["eid"] = contact.external_id
            if contact.phones:
                payload["phone"] = contact.phones[0]
            if contact.company is not None:
                payload["company"] = contact.company
            if contact.type is not None:
                payload["type"] = contact.type.value  # customer or employee: checked as input
            if contact.tags:
                list_ids = await self._resolve_lists(contact.tags)
                dropped += _unknown_lists(list_ids)
                add_ids = list(dict.fromkeys(lid for lid in list_ids if lid))
                if add_ids:
                    payload["addToLists"] = add_ids
            response = await self.request("POST", "/contacts", json=payload)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)
        return self._write_result(self.decode(response), dropped)

    async def plan(self, contact: ContactWrite, existing: ContactRecord | None) -> WriteResult:
        """What `upsert` would report: CREATED unless `existing`; list names are
        resolved (one `GET /lists`, once per connector) to tell which would be dropped."""
        if not contact.email or not contact.email.strip():
            return self.skipped(NEEDS_EMAIL)
        dropped = self._unsent(contact)
        if contact.tags:
            try:
                dropped += _unknown_lists(await self._resolve_lists(contact.tags))
            except ConnectorError as exc:
                return self.failed(exc, dropped=dropped)
        status = WriteStatus.CREATED if existing is None else WriteStatus.UPDATED
        return WriteResult(self.provider, status, dropped_fields=tuple(dropped))

    def _unsent(self, contact: ContactWrite) -> list[str]:
        """The given fields an upsert leaves out: phones past the first, and fields
        Trustmary has nowhere to store."""
        return [f"phones[{i}]" for i in range(1, len(contact.phones or ()))] + self.unwritable(
            contact
        )

    async def edit(self, contact: ContactRecord, change: ContactChange) -> WriteResult:
        """An upsert by the contact's own email with the fields given; None clears
        (`name`, `eid`, `phone`, `company`). The email itself cannot change, and `type`
        cannot be cleared (it is customer or employee)."""
        if not contact.email:
            return self.failed("Trustmary keys contacts by email and this contact has none")
        writable = self.writable_fields - {"tags"}
        dropped = [name for name in change.given() if name not in writable]
        notes: list[str] = []
        if change.has("email") and normalize_email(change.get("email")) != normalize_email(
            contact.email
        ):
            dropped.insert(0, "email")
            notes.append(KEYED_BY_EMAIL)
        if contact.status == "deleted":
            return self.skipped(DELETED, dropped=dropped)
        payload: dict[str, Any] = {"email": contact.email}
        if change.has("first_name") or change.has("last_name"):
            first = change.get("first_name") if change.has("first_name") else contact.first_name
            last = change.get("last_name") if change.has("last_name") else contact.last_name
            payload["name"] = " ".join(p for p in (first, last) if p) or None
        for name, key in _EDITED:
            if change.has(name):
                payload[key] = change.get(name)
        if change.has("phones"):
            phones = change.get("phones") or ()
            payload["phone"] = phones[0] if phones else None
            dropped += [f"phones[{i}]" for i in range(1, len(phones))]
        contact_type = change.get("type")
        if contact_type is not None:
            payload["type"] = contact_type.value  # customer or employee: checked as input
        elif change.has("type"):
            dropped.append("type")
            notes.append(NO_UNTYPED)
        message = "; ".join(notes) or None
        if len(payload) == 1:
            return self.skipped(message or NOTHING_EDITABLE, dropped=dropped)
        try:
            response = await self.request("POST", "/contacts", json=payload)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)
        result = self._write_result(self.decode(response), dropped)
        return replace(result, message=message) if message else result

    async def _full_name(self, contact: ContactWrite, email: str) -> str | None:
        """The name to send; with one part given, the other is kept from the stored name,
        since Trustmary stores a single `name` and would otherwise lose it."""
        if contact.first_name is None and contact.last_name is None:
            return None
        first, last = contact.first_name, contact.last_name
        if first is None or last is None:
            stored = await self._fetch_one(normalize_email(email) or email)
            if stored is not None:
                first = stored.first_name if first is None else first
                last = stored.last_name if last is None else last
        return " ".join(p for p in (first, last) if p)

    def _write_result(self, body: JSON, dropped: Sequence[str]) -> WriteResult:
        record = body.get("contact") if isinstance(body, dict) else None
        action = body.get("action") if isinstance(body, dict) else None
        status = _ACTIONS.get(action) if isinstance(action, str) else None
        if not isinstance(record, dict) or record.get("id") is None or status is None:
            return self.failed("Trustmary answered without a contact and action", dropped=dropped)
        mapped = to_record(record)
        return WriteResult(
            self.provider,
            status,
            remote_id=mapped.remote_id,
            dropped_fields=tuple(dropped),
            contact=mapped,
        )

    async def delete(self, contact: ContactRecord) -> WriteResult:
        """Mark the contact deleted in Trustmary (it keys deletes by email)."""
        if not contact.email:
            return self.failed("Trustmary deletes by email and this contact has none")
        try:
            response = await self.request("DELETE", "/contacts", json={"email": contact.email})
        except NotFound:
            return self.failed("not found")
        except ConnectorError as exc:
            return self.failed(exc)
        body = self.decode(response)
        record = body.get("contact") if isinstance(body, dict) else None
        mapped = to_record(record) if isinstance(record, dict) and "id" in record else None
        return WriteResult(
            self.provider,
            WriteStatus.DELETED,
            remote_id=mapped.remote_id if mapped else contact.remote_id,
            message="marked deleted: Trustmary keeps the contact with status deleted",
            contact=mapped,
        )

    async def tag(
        self, contact: ContactRecord, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> WriteResult:
        """Add the contact to lists and remove it from lists, by list name."""
        if not contact.email:
            return self.failed("Trustmary keys contacts by email and this contact has none")
        if contact.status == "deleted":
            # The list change is an upsert, which would bring the contact back.
            return self.failed("the contact is deleted in Trustmary")
        names = [*add, *remove]
        try:
            ids = await self._resolve_lists(names)
        except ConnectorError as exc:
            return self.failed(exc)
        # Named as the tags given, add first then remove: `tags[1]` is the second name.
        unknown = [i for i, list_id in enumerate(ids) if list_id is None]
        dropped = [f"tags[{i}]" for i in unknown]
        valid_add = list(dict.fromkeys(lid for lid in ids[: len(add)] if lid))
        valid_remove = list(dict.fromkeys(lid for lid in ids[len(add) :] if lid))
        missing = ", ".join(repr(names[i]) for i in unknown)
        note = f"no Trustmary list named {missing}" if unknown else None
        if not valid_add and not valid_remove:
            return self.failed(note or "no lists given", dropped=dropped)
        payload: dict[str, Any] = {"email": contact.email}
        if valid_add:
            payload["addToLists"] = valid_add
        if valid_remove:
            payload["removeFromLists"] = valid_remove
        try:
            response = await self.request("POST", "/contacts", json=payload)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)
        result = self._write_result(self.decode(response), dropped)
        if result.status is WriteStatus.FAILED:
            return result
        # CREATED when the contact was gone and Trustmary's upsert made it again.
        return replace(result, message=note)

    async def check_health(self) -> Health:
        """`GET /lists`: small, and refused without a valid key."""
        return await self.timed_health("/lists")


def _unknown_lists(list_ids: Sequence[str | None]) -> list[str]:
    return [f"tags[{i}]" for i, list_id in enumerate(list_ids) if list_id is None]


def _parse_position(cursor: str | None, provider: Provider) -> int:
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 9:
        raise BadInput(f"not a cursor of this provider: {cursor!r}", provider=provider)
    return int(cursor)
