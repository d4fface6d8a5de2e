"""The fewest provider calls (and the least time) the provider APIs allow, from the data.

These bounds are computed by the harness from the providers' documents
(docs/providers/*.md, written down in `DOCUMENTED` and `WRITE_BATCH` below)
and the records the sandbox holds, never from the connectors or from what the
gateway did, so a gateway that wastes calls, or a connector that batches less
than the API allows, cannot hide it by agreeing with itself.

What each provider's API charges:

- Adaptix lists with any `limit` the caller sets (no documented maximum), so
  one call reads a whole listing; many ids or emails are read in one call
  (`ids:` / `where ... in`, no documented maximum); a contact's newest events
  and notes are two calls (`/contacts/ID/activity`, `/contacts/ID/notes`).
- Trustmary lists in pages of 1000 and reads one email a call: a set of emails
  costs one call each or the pages not read yet, whichever is fewer.
- Lunar Send reads one email a call and cannot list.
- Akita and Interakt cannot be read.

For writes: Adaptix's batch endpoint takes at most 200 contacts a call; the
others take one call a contact; Lunar Send has no upsert (a duplicate email is
a 409), so a write is a lookup and then a create or an edit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors.settings import RateLimit
from gateway.domain.records import Provider

# Providers that cannot upsert by email: a write first looks the email up.
LOOKUP_BEFORE_WRITE: frozenset[Provider] = frozenset({Provider.LUNARSEND})
# Contacts one call of a batch write endpoint takes, where the API has one.
WRITE_BATCH: dict[Provider, int] = {Provider.ADAPTIX: 200}


@dataclass(frozen=True, slots=True)
class CostModel:
    """What one provider's API charges for reads.

    Args:
        provider: whose API this is.
        can_list: it can enumerate every contact.
        list_page: contacts per list call; None when the caller sets any limit.
        by_email: it can read a contact by email.
        batch: emails one read call answers; None when the documents set no maximum.
        activity_calls: calls for one contact's newest activity (0: none kept).
    """

    provider: Provider
    can_list: bool
    list_page: int | None
    by_email: bool
    batch: int | None
    activity_calls: int

    def lookup_calls(self, keys: int, *, pages_left: int | None) -> int:
        """The fewest calls to learn whether each of `keys` emails is here.

        Args:
            keys: emails not yet known to be here or absent.
            pages_left: list calls that would read every record not yet read
                (None when the provider cannot list).
        """
        if keys <= 0:
            return 0
        options = []
        if self.by_email:
            options.append(1 if self.batch is None else math.ceil(keys / self.batch))
        if pages_left is not None:
            options.append(pages_left)
        if not options:
            raise ValueError(f"{self.provider.value} can neither list nor read by email")
        return min(options)


DOCUMENTED: dict[Provider, CostModel] = {
    Provider.ADAPTIX: CostModel(
        Provider.ADAPTIX, can_list=True, list_page=None, by_email=True, batch=None, activity_calls=2
    ),
    Provider.TRUSTMARY: CostModel(
        Provider.TRUSTMARY, can_list=True, list_page=1000, by_email=True, batch=1, activity_calls=0
    ),
    Provider.LUNARSEND: CostModel(
        Provider.LUNARSEND, can_list=False, list_page=None, by_email=True, batch=1, activity_calls=0
    ),
}


def cost_models() -> dict[Provider, CostModel]:
    """The cost model of every readable provider, as its documents describe its API."""
    return dict(DOCUMENTED)


@dataclass(frozen=True, slots=True)
class Dataset:
    """What the readable providers hold, as normalized emails.

    Args:
        listing: the enumeration phases in order (provider, its emails in list order).
        emails: every readable provider's emails.
    """

    listing: Sequence[tuple[Provider, Sequence[str]]]
    emails: Mapping[Provider, frozenset[str]]


def listing_bound(
    first: int, data: Dataset, models: Mapping[Provider, CostModel], *, activity: bool = True
) -> dict[Provider, int]:
    """The fewest calls per provider to answer the first page of
    `contacts(first:)` with every provider's record of each person listed
    (sources, tags, account) and, unless `activity` is false, the newest activity.

    The listing walks the phases in order; a record whose email a provider of an
    earlier phase has is a person already listed and is skipped. Every person
    listed needs every readable provider's record: free where the provider's
    records were all read while listing, else a lookup (by email, in batches, or
    by reading the remaining pages, whichever is fewest). Activity is read per
    listed contact that has a record in a provider that keeps activity.

    Args:
        first: the page size asked for.
        data: the providers' emails.
        models: cost models of the readable providers.
        activity: whether the page asks for each contact's activity.

    Returns:
        Calls per readable provider.
    """
    calls: Counter[Provider] = Counter()
    listed: list[str] = []
    read: dict[Provider, set[str]] = {p: set() for p in models}
    pages_read: Counter[Provider] = Counter()
    complete: set[Provider] = set()
    checks: dict[Provider, set[str]] = {p: set() for p in models}

    for index, (provider, emails) in enumerate(data.listing):
        if len(listed) >= first:
            break
        earlier = [p for p, _ in data.listing[:index]]
        examined = 0
        for email in emails:
            if len(listed) >= first:
                break
            examined += 1
            # Asked of earlier providers in order until one has it.
            for previous in earlier:
                checks[previous].add(email)
                if email in data.emails[previous]:
                    break
            else:
                listed.append(email)
        model = models[provider]
        size = model.list_page
        pages = 1 if size is None else max(1, math.ceil(examined / size))
        pages_read[provider] = pages
        calls[provider] += pages
        if model.list_page is None or pages * model.list_page >= len(emails):
            complete.add(provider)
        else:
            read[provider].update(emails[: pages * model.list_page])

    listed_set = set(listed)
    for provider, model in models.items():
        wanted = checks[provider] | listed_set
        if provider not in complete:
            unknown = wanted - read[provider]
            pages_left: int | None = None
            if model.can_list:
                total = len(data.emails[provider])
                size = model.list_page
                all_pages = 1 if size is None else max(1, math.ceil(total / size))
                pages_left = all_pages - pages_read[provider]
            calls[provider] += model.lookup_calls(len(unknown), pages_left=pages_left)
        if activity and model.activity_calls:
            calls[provider] += model.activity_calls * len(listed_set & data.emails[provider])
    return {provider: calls[provider] for provider in models}


def listed_people(first: int, data: Dataset) -> list[tuple[Provider, str]]:
    """Who the first page lists: (the phase's provider, email), in order."""
    listed: list[tuple[Provider, str]] = []
    for index, (provider, emails) in enumerate(data.listing):
        earlier = [p for p, _ in data.listing[:index]]
        for email in emails:
            if len(listed) >= first:
                return listed
            if not any(email in data.emails[p] for p in earlier):
                listed.append((provider, email))
    return listed


def bulk_write_calls(count: int, providers: Sequence[Provider]) -> dict[Provider, int]:
    """The fewest calls to create `count` new contacts in each provider.

    Assumes inputs every provider can take in one write (Akita: external ids and
    no company, which Akita stores with a second call to its accounts API).
    """
    calls = {}
    for provider in providers:
        batch = WRITE_BATCH.get(provider)
        if batch:
            calls[provider] = math.ceil(count / batch)
        else:
            per_contact = 2 if provider in LOOKUP_BEFORE_WRITE else 1
            calls[provider] = count * per_contact
    return calls


def paced_seconds(calls: Mapping[Provider, int], limits: Mapping[Provider, RateLimit]) -> float:
    """The time the slowest provider needs for its calls at its sustained rate limit.

    `calls / (requests / per_seconds)`: a client could start a burst up to one
    window sooner by filling the first window at once; the gateway paces evenly.
    """
    seconds = [calls[p] * limits[p].per_seconds / limits[p].requests for p in calls if p in limits]
    return max(seconds, default=0.0)
