"""The benchmark scenarios. Each starts its own sandbox and gateway(s), measures
`options.runs` times, reports medians, and leaves nothing running.

    loadgen     the load generator's ceiling against the sandbox alone
    fanout      contact(email:) over three providers that each answer after 50 ms
    calls       provider calls per contacts(first: N) against the lower bound
    throughput  requests/s and latency with 1 and 2 workers; added latency; profile
    large       contacts(first: 1000) with 12 scalar fields: time and gateway CPU
    bulk        a bulk job of --bulk-size contacts under 100 req/s limits
    journal     upsertContact with the write journal (and store) and without
    telemetry   a lookup with traces on and off, and what its metrics cost
    hive        the merged lookup through contact-gateway and Hive Gateway side by side
                (not by default: needs node and npm)
    instructions  the same lookup in instructions per request, under callgrind (not by
                default: needs valgrind)
    abuse       requests the gateway was found vulnerable to: refused, at no provider call?
    store       contact(email:) with the identity store and without it: the added p50
    cached      contacts(first: 50) with sources, Lunar Send at 2/s: cold, then from [cache]
                (not by default)
    memory      the gateway workers' peak RSS over everything run before it
    growth      the store's bytes per person after 10,000 people (in-process; not by default)
"""

from __future__ import annotations

import base64
import inspect
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench import chart
from bench import hive as peer
from bench import instructions as counted
from bench.abuse import Abuse, Answer, abuses, send
from bench.bounds import (
    WRITE_BATCH,
    Dataset,
    bulk_write_calls,
    cost_models,
    listed_people,
    listing_bound,
    paced_seconds,
)
from bench.growth import PAGE, WRITTEN_EVERY, growth_people, measure_growth
from bench.harness import BenchError, Harness, Options, Outcome, graphql
from bench.loadgen import Request
from bench.profile import summarise_profile
from bench.report import Figure, Target
from bench.servers import SandboxControls, Server, gateway_config, rss_mb
from bench.stats import median, medians, percentile
from connectors.settings import RateLimit
from gateway.domain.normalize import normalize_email
from gateway.domain.records import Provider
from gateway.store.identities import Identities
from sandbox import credentials
from sandbox.seed import generate

READABLE = (Provider.ADAPTIX, Provider.TRUSTMARY, Provider.LUNARSEND)
# `contacts` without a filter enumerates Adaptix, then Trustmary (the schema's own words).
LISTING_ORDER = (Provider.ADAPTIX, Provider.TRUSTMARY)
FANOUT_LATENCY_MS = 50.0
LARGE_PAGE = 1000
# Queries per large-answer run: process CPU is read in clock ticks (10 ms), so one
# query's ~60 ms would be read to the nearest 10; five read it to the nearest 2.
LARGE_REPEAT = 5
BULK_RATE = RateLimit(100, 1.0)
BULK_LIMITS = dict.fromkeys(Provider, BULK_RATE)
# How often the bulk job is asked how far it is (as a client would: it costs the
# gateway CPU that the job needs on a 2-core machine).
BULK_POLL = 0.25
# Seconds of load each gateway gets before the side-by-side runs are measured.
HIVE_WARMUP = 5.0
# Seconds the gateway is left idle after the abuse before its RSS is read again, and
# how far above its RSS before the abuse that reading may be.
ABUSE_IDLE = 5.0
ABUSE_RSS_SLACK_MB = 5.0
# calls, large and bulk measure what an operation costs, not whether the default
# [limits] let it run (abuse does that): contacts(first: 500) with activity is
# estimated at ~1500 provider calls, 2000 upserts to five providers at ~10,000 and
# 40 s, past the defaults' 1000 calls and 30 s.
COST_LIMITS = {"max_provider_calls": 1_000_000, "timeout": 3600}
STORE_ADDED_MS = 0.5
# What the write journal may add to upsertContact's p50 (on SQLite).
JOURNAL_ADDED_MS = 1.0
# What metrics and traces together may add to a lookup's p50.
TELEMETRY_ADDED_MS = 0.3
# How long the store trusts what it remembers of a person before it asks the database.
STORE_MEMORY_S = float(inspect.signature(Identities).parameters["memory_seconds"].default)
# The cached listing: Lunar Send paced at 2 requests a second, in the sandbox and in
# the gateway's configuration, and a record cache that outlives the run.
CACHED_PAGE = 50
CACHED_RATE = RateLimit(2, 1.0)
CACHE_TTL = 600.0
CACHED_WARM_MS = 100.0
GROWTH_PEOPLE = 10_000

ONE_CONTACT = """
query One($email: String!) {
  contact(email: $email) {
    id email firstName lastName company phones
    sources { provider remoteId }
  }
}"""
LIST_CONTACTS = """
query List($first: Int!) {
  contacts(first: $first) {
    edges { node {
      id email firstName lastName
      tags { name }
      account { id name }
      sources { provider remoteId }
      activity(first: 3) { edges { node { type timestamp } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
# Twelve scalar fields per contact.
LARGE_CONTACTS = """
query Large($first: Int!) {
  contacts(first: $first) {
    edges { node {
      id email firstName lastName name company jobTitle
      externalId type status points createdAt
    } }
  }
}"""
CACHED_LISTING = """
query Cached($first: Int!) {
  contacts(first: $first) { edges { node { email sources { provider remoteId } } } }
}"""
START_BULK = """
mutation Bulk($inputs: [ContactInput!]!) { startBulkUpsert(inputs: $inputs) { id } }"""
BULK_JOB = """
query Job($id: ID!) { bulkJob(id: $id) { status total succeeded failed queued pending } }"""
UPSERT_ONE = """
mutation Save($input: ContactInput!) {
  upsertContact(input: $input) { operationId results { status } }
}"""


def three_provider_emails(seed: int = 0) -> list[str]:
    """Emails of the seed's people who are in Adaptix, Trustmary and Lunar Send."""
    wanted = {p.value for p in READABLE}
    return [
        person.records[Provider.ADAPTIX.value].email
        for person in generate(seed).people
        if wanted <= person.records.keys()
    ]


def post_graphql(
    server: Server, query: str, variables: Mapping[str, Any], timeout: float = 120
) -> dict[str, Any]:
    """One GraphQL request from the harness (for probes that need the answer's body)."""
    with httpx.Client(base_url=server.url, timeout=timeout) as client:
        response = client.post("/graphql", json={"query": query, "variables": dict(variables)})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise BenchError(f"the gateway answered with errors: {body['errors'][:2]}")
    return body


def stored_emails(controls: SandboxControls, provider: Provider) -> list[str]:
    """The normalized emails a provider's sandbox holds, in its order (deleted ones left out)."""
    found = []
    for record in controls.records(provider.value):
        if record.get("status") == "deleted":  # Trustmary keeps deleted contacts
            continue
        if provider is Provider.ADAPTIX:
            record = (record.get("fields") or {}).get("all", {})
        email = record.get("email")
        if isinstance(email, str) and (normalized := normalize_email(email)):
            found.append(normalized)
    return found


def dataset(controls: SandboxControls) -> Dataset:
    """The readable providers' emails, read back from the sandbox, in list order."""
    lists = {p: stored_emails(controls, p) for p in READABLE}
    return Dataset(
        listing=[(p, lists[p]) for p in LISTING_ORDER],
        emails={p: frozenset(emails) for p, emails in lists.items()},
    )


# -- loadgen ----------------------------------------------------------------------


def loadgen_ceiling(h: Harness) -> Outcome:
    """The load generator against a trivial sandbox endpoint, 32 clients."""
    sandbox, _ = h.sandbox(seed=None)
    unit = [Request("GET", "/lunarsend/_sandbox/controls")]
    runs = []
    for _ in range(h.options.runs):
        result = h.load(
            sandbox,
            [unit],
            "loadgen ceiling",
            concurrency=32,
            duration=min(3.0, h.options.seconds),
            warmup=0.5,
        )
        runs.append({"rps": result.rps, "cpu_us": result.cpu_us_per_unit})
    h.stop(sandbox)
    m = medians(runs)
    own = 1e6 / m["cpu_us"] if m["cpu_us"] else None
    return Outcome(
        figures=[
            Figure(
                "loadgen.sandbox_rps",
                m["rps"],
                "req/s",
                note="32 clients on a trivial sandbox endpoint: the sandbox's ceiling too",
            ),
            Figure(
                "loadgen.cpu_per_request",
                m["cpu_us"],
                "us",
                note=f"its own ceiling on one core ~ {own:,.0f} req/s" if own else "",
            ),
        ],
        details={"runs": runs},
    )


# -- 1. fan-out latency -----------------------------------------------------------------


def fanout(h: Harness) -> Outcome:
    """contact(email:) for people in three readable providers, each answering after 50 ms."""
    sandbox, controls = h.sandbox()
    for provider in READABLE:
        controls.set(provider.value, latency_ms=FANOUT_LATENCY_MS)
    gateway = h.gateway(gateway_config(sandbox.url), label="fanout")
    emails = three_provider_emails()
    probe = post_graphql(gateway, ONE_CONTACT, {"email": emails[0]})
    sources = probe["data"]["contact"]["sources"]
    if len(sources) != 3:
        raise BenchError(f"expected 3 sources for {emails[0]}, got {sources}")
    units = [[graphql(ONE_CONTACT, {"email": email})] for email in emails]
    runs = []
    for _ in range(h.options.runs):
        result = h.load(gateway, units, "fan-out", duration=h.options.seconds, warmup=0.5)
        runs.append(
            {
                "p50": percentile(result.latencies_ms, 50),
                "p99": percentile(result.latencies_ms, 99),
                "count": float(result.ok),
            }
        )
    h.stop(gateway)
    h.stop(sandbox)
    m = medians(runs)
    return Outcome(
        figures=[
            Figure(
                "fanout.p50",
                m["p50"],
                "ms",
                Target("<=", 1.15, "<= 1.15 x 50 ms"),
                m["p50"] / FANOUT_LATENCY_MS,
                note="3 providers at 50 ms each, 1 client",
            ),
            Figure("fanout.p99", m["p99"], "ms", None, m["p99"] / FANOUT_LATENCY_MS),
        ],
        details={"runs": runs, "latency_ms": FANOUT_LATENCY_MS},
    )


# -- 2. provider calls per query --------------------------------------------------------


def calls(h: Harness) -> Outcome:
    """Provider calls per contacts(first: N) against the fewest the APIs allow."""
    sizes = h.options.list_sizes
    sandbox, controls = h.sandbox()
    gateway = h.gateway(gateway_config(sandbox.url, limits=COST_LIMITS), label="calls")
    data = dataset(controls)
    models = cost_models()
    bounds = {n: listing_bound(n, data, models) for n in sizes}
    for n in sizes:
        body = post_graphql(gateway, LIST_CONTACTS, {"first": n})
        got = len(body["data"]["contacts"]["edges"])
        expected = len(listed_people(n, data))
        if got != expected:
            raise BenchError(f"contacts(first: {n}) listed {got} people, the data has {expected}")
    runs = []
    for _ in range(h.options.runs):
        run: dict[str, float] = {}
        for n in sizes:
            controls.reset_stats()
            result = h.load(
                gateway, [[graphql(LIST_CONTACTS, {"first": n})]], f"contacts(first: {n})", count=1
            )
            run[f"{n}.ms"] = result.latencies_ms[0]
            for provider in models:
                run[f"{n}.{provider.value}"] = float(sum(controls.stats(provider.value).values()))
        runs.append(run)
    h.stop(gateway)
    h.stop(sandbox)
    m = medians(runs)
    figures = []
    for n in sizes:
        for provider in models:
            made = m[f"{n}.{provider.value}"]
            bound = bounds[n][provider]
            figures.append(
                Figure(
                    f"calls.n{n}.{provider.value}",
                    made,
                    "calls",
                    Target("<=", 1.0, f"= bound {bound}"),
                    made / bound if bound else None,
                )
            )
        figures.append(Figure(f"calls.n{n}.time", m[f"{n}.ms"], "ms"))
    return Outcome(
        figures=figures,
        details={
            "runs": runs,
            "bounds": {n: {p.value: c for p, c in b.items()} for n, b in bounds.items()},
            "data": {p.value: len(e) for p, e in data.emails.items()},
        },
    )


# -- 3. throughput, added latency, profile -------------------------------------------------


def _direct_lookups(email: str) -> list[Request]:
    """The three lookups the gateway's connectors send for one email, as they send them."""
    basic = base64.b64encode(
        f"{credentials.ADAPTIX_USERNAME}:{credentials.ADAPTIX_PASSWORD}".encode()
    ).decode()
    adaptix = urlencode(
        [
            ("where[0][col]", "email"),
            ("where[0][expr]", "in"),
            ("where[0][val]", email),
            ("start", 0),
            ("limit", 1),
        ]
    )
    return [
        Request("GET", f"/adaptix/api/contacts?{adaptix}", {"Authorization": f"Basic {basic}"}),
        Request(
            "GET",
            "/trustmary/v1/contacts?" + urlencode({"email": email}),
            {"Authorization": f"Apikey {credentials.TRUSTMARY_API_KEY}"},
        ),
        Request(
            "GET",
            "/lunarsend/api/contacts?" + urlencode({"searchby": "email", "search": email}),
            {"x-api-key": credentials.LUNARSEND_API_KEY},
        ),
    ]


def throughput(h: Harness) -> Outcome:
    """One-contact queries at 0 ms providers: 1 and 2 workers, 32 clients; the gateway's
    added latency over the same lookups made directly; a profile of one worker."""
    sandbox, _ = h.sandbox()
    emails = three_provider_emails()
    units = [[graphql(ONE_CONTACT, {"email": email})] for email in emails]
    direct = [_direct_lookups(email) for email in emails]
    config = gateway_config(sandbox.url)
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    cpu_per_request: float | None = None
    for workers in (1, 2):
        gateway = h.gateway(config, workers=workers, label=f"w{workers}")
        runs = []
        for _ in range(h.options.runs):
            by_worker, sandbox_cpu = gateway.cpu_by_worker(), sandbox.cpu_seconds()
            result = h.load(
                gateway,
                units,
                f"throughput ({workers} workers)",
                concurrency=32,
                duration=h.options.seconds,
                warmup=1.0,
            )
            answered = result.ok + result.warmup_units
            spent = {
                pid: cpu - by_worker.get(pid, 0.0) for pid, cpu in gateway.cpu_by_worker().items()
            }
            gateway_cpu = sum(spent.values())
            runs.append(
                {
                    "rps": result.rps,
                    "p50": percentile(result.latencies_ms, 50),
                    "p99": percentile(result.latencies_ms, 99),
                    "gateway_cpu_ms": gateway_cpu * 1000 / answered,
                    "busiest_worker": max(spent.values()) / gateway_cpu if gateway_cpu else 0.0,
                    "sandbox_cpu_ms": (sandbox.cpu_seconds() - sandbox_cpu) * 1000 / answered,
                    "loadgen_cpu_ms": result.cpu_s * 1000 / result.ok,
                }
            )
        m = medians(runs)
        details[f"w{workers}"] = runs
        figures += [
            Figure(f"throughput.w{workers}.rps", m["rps"], "req/s", note="32 clients"),
            Figure(f"throughput.w{workers}.p50", m["p50"], "ms"),
            Figure(f"throughput.w{workers}.p99", m["p99"], "ms"),
            Figure(
                f"throughput.w{workers}.gateway_cpu",
                m["gateway_cpu_ms"],
                "ms/req",
                note=f"sandbox {m['sandbox_cpu_ms']:.2f} ms/req, "
                f"load generator {m['loadgen_cpu_ms']:.2f} ms/req, on 2 cores"
                + (f"; busiest worker did {m['busiest_worker']:.0%}" if workers > 1 else ""),
            ),
        ]
        if workers == 1:
            cpu_per_request = m["gateway_cpu_ms"]
            overhead = _added_latency(h, gateway, sandbox, units, direct)
            details["overhead"] = overhead
            o = medians(overhead)
            figures += [
                Figure("overhead.gateway_p50", o["gateway"], "ms", note="1 client, 1 worker"),
                Figure(
                    "overhead.direct_p50",
                    o["direct"],
                    "ms",
                    note="the same 3 lookups sent at once by the load generator",
                ),
                Figure(
                    "overhead.added_p50",
                    o["added"],
                    "ms",
                    Target("<=", 2.0, "<= 2 ms", on="value"),
                    o["added"] / 2.0,
                ),
            ]
        h.stop(gateway)
    profile_figures, details["profile"] = _profile(h, config, units, cpu_per_request)
    h.stop(sandbox)
    return Outcome(figures=figures + profile_figures, details=details)


def _added_latency(
    h: Harness,
    gateway: Server,
    sandbox: Server,
    units: list[list[Request]],
    direct: list[list[Request]],
) -> list[dict[str, float]]:
    runs = []
    count = max(100, int(h.options.seconds * 60))
    for _ in range(h.options.runs):
        through = h.load(gateway, units, "gateway latency", count=count, warmup=0.3)
        straight = h.load(sandbox, direct, "direct lookups", count=count, warmup=0.3)
        g = percentile(through.latencies_ms, 50)
        d = percentile(straight.latencies_ms, 50)
        runs.append({"gateway": g, "direct": d, "added": g - d})
    return runs


def _profile(
    h: Harness, config: str, units: list[list[Request]], cpu_per_request: float | None
) -> tuple[list[Figure], dict[str, Any]]:
    path = h.workdir / "gateway.prof"
    gateway = h.gateway(config, profile_to=path, label="profile")
    # Warm the worker (imports, connection pools) before the profiler starts.
    h.load(gateway, units, "profile warmup", concurrency=8, duration=1.0)
    with gateway.profiling(path):
        result = h.load(gateway, units, "profiled load", concurrency=8, duration=h.options.seconds)
    h.stop(gateway)
    summary = summarise_profile(path)
    figures = []
    for stage, share in summary.shares().items():
        note = ""
        if cpu_per_request is not None:
            note = f"~ {share * cpu_per_request * 1000:,.0f} us of {cpu_per_request:.2f} ms/req"
        figures.append(Figure(f"profile.{stage}", share * 100, "%", note=note))
    details = {
        "requests": result.ok,
        "profiled_seconds": summary.total_s,
        "by_stage_s": summary.by_stage,
        "top_own_time": [
            {"function": name, "seconds": seconds, "calls": n} for name, seconds, n in summary.top
        ],
    }
    return figures, details


# -- 4. large answer ------------------------------------------------------------------------


def add_adaptix_contacts(url: str, count: int, *, prefix: str = "bench.large") -> None:
    """Create `count` contacts through Adaptix's batch endpoint (200 a call)."""
    limit = WRITE_BATCH[Provider.ADAPTIX]
    auth = (credentials.ADAPTIX_USERNAME, credentials.ADAPTIX_PASSWORD)
    with httpx.Client(base_url=url, auth=auth, timeout=60) as client:
        for start in range(0, count, limit):
            batch = [
                {
                    "email": f"{prefix}.{i}@bench.test",
                    "firstname": "Bench",
                    "lastname": f"Large{i}",
                    "company": "Bench Corp",
                    "position": "Load Tester",
                    "mobile": f"+3584{i:08d}",
                }
                for i in range(start, min(count, start + limit))
            ]
            response = client.post("/adaptix/api/contacts/batch/new", json=batch)
            if response.status_code != 201 or response.json().get("errors"):
                raise BenchError(f"Adaptix batch create failed: {response.text[:300]}")


def large(h: Harness) -> Outcome:
    """contacts(first: 1000) with 12 scalar fields, all providers and Adaptix alone."""
    sandbox, controls = h.sandbox()
    # Enough in Adaptix alone that both configurations list a full page from it.
    held = len(dataset(controls).emails[Provider.ADAPTIX])
    add_adaptix_contacts(sandbox.url, max(0, LARGE_PAGE + 50 - held))
    data = dataset(controls)
    if len(data.emails[Provider.ADAPTIX]) < LARGE_PAGE:
        raise BenchError("the sandbox holds fewer than 1000 Adaptix contacts")
    request = [[graphql(LARGE_CONTACTS, {"first": LARGE_PAGE})]]
    figures = []
    details: dict[str, Any] = {"adaptix_contacts": len(data.emails[Provider.ADAPTIX])}
    for label, providers in (("all", tuple(Provider)), ("adaptix_only", (Provider.ADAPTIX,))):
        gateway = h.gateway(
            gateway_config(sandbox.url, providers=providers, limits=COST_LIMITS),
            label=f"large-{label}",
        )
        body = post_graphql(gateway, LARGE_CONTACTS, {"first": LARGE_PAGE})
        edges = len(body["data"]["contacts"]["edges"])
        if edges != LARGE_PAGE:
            raise BenchError(f"contacts(first: {LARGE_PAGE}) answered {edges} contacts")
        runs = []
        for _ in range(h.options.runs):
            controls.reset_stats()
            before = gateway.cpu_seconds()
            result = h.load(
                gateway, request, f"large answer ({label})", count=LARGE_REPEAT, timeout=300
            )
            cpu_ms = (gateway.cpu_seconds() - before) * 1000 / result.ok
            runs.append(
                {
                    "total_ms": percentile(result.latencies_ms, 50),
                    "cpu_ms_per_1000": cpu_ms * 1000 / edges,
                    "provider_calls": float(
                        sum(sum(controls.stats(p.value).values()) for p in READABLE)
                    )
                    / result.ok,
                }
            )
        h.stop(gateway)
        m = medians(runs)
        details[label] = runs
        note = "all five providers" if label == "all" else "only Adaptix enabled"
        figures += [
            Figure(
                f"large.{label}.total",
                m["total_ms"],
                "ms",
                note=f"{note}; {m['provider_calls']:.0f} provider calls",
            ),
            Figure(
                f"large.{label}.cpu_per_1000",
                m["cpu_ms_per_1000"],
                "ms",
                Target("<=", 60.0, "<= 60 ms", on="value"),
                m["cpu_ms_per_1000"] / 60.0,
                note="gateway worker CPU per 1000 contacts x 12 fields",
            ),
        ]
    h.stop(sandbox)
    return Outcome(figures=figures, details=details)


# -- 5. bulk upsert -------------------------------------------------------------------------


def bulk_inputs(count: int, run: int) -> list[dict[str, str]]:
    """`count` new contacts every provider can take in one write each."""
    return [
        {
            "email": f"bulk{run}.{i}@bench.test",
            "externalId": f"bench-{run}-{i}",
            "accountExternalId": "bench-account",
            "firstName": "Bulk",
            "lastName": f"Contact{i}",
        }
        for i in range(count)
    ]


def missing_records(
    controls: SandboxControls, inputs: Sequence[Mapping[str, str]]
) -> dict[str, int]:
    """Per provider, how many of `inputs` it does not hold (Akita by external id, the
    others by email)."""
    emails = {normalize_email(i["email"]) for i in inputs}
    ids = {i["externalId"] for i in inputs}
    akita = {
        str(r.get("internal_id")) for r in controls.records("akita") if r.get("kind") == "contact"
    }
    missing = {Provider.AKITA.value: len(ids - akita)}
    for provider in Provider:
        if provider is not Provider.AKITA:
            missing[provider.value] = len(emails - set(stored_emails(controls, provider)))
    return missing


def bulk(h: Harness) -> Outcome:
    """A bulk job (startBulkUpsert) to all five providers under 100 requests/s per provider,
    timed from the start until bulkJob says DONE."""
    count = h.options.bulk_size
    sandbox, controls = h.sandbox()
    for provider in Provider:
        controls.set(provider.value, rate_limit=BULK_RATE)
    gateway = h.gateway(
        gateway_config(sandbox.url, rate_limit=BULK_RATE, limits=COST_LIMITS), label="bulk"
    )
    needed = bulk_write_calls(count, list(Provider))
    bound = paced_seconds(needed, BULK_LIMITS)
    runs = []
    for run in range(h.options.runs):
        inputs = bulk_inputs(count, run)
        controls.reset_stats()
        # The job answers at once; its wall time is until every write has its result.
        started = time.monotonic()
        job = post_graphql(gateway, START_BULK, {"inputs": inputs})["data"]["startBulkUpsert"]
        deadline = started + bound * 3 + 120
        while True:
            answer = post_graphql(gateway, BULK_JOB, {"id": job["id"]})["data"]["bulkJob"]
            if answer["status"] in ("DONE", "FAILED"):
                break
            if time.monotonic() > deadline:
                raise BenchError(f"the bulk job did not finish in {deadline - started:.0f} s")
            time.sleep(BULK_POLL)
        wall = time.monotonic() - started
        made = {p: sum(controls.stats(p.value).values()) for p in Provider}
        extra = {p.value: made[p] - needed[p] for p in Provider}
        missing = missing_records(controls, inputs)
        runs.append(
            {
                "wall_s": wall,
                "ratio": bound / wall if wall else 0.0,
                "extra_calls": float(sum(max(0, n) for n in extra.values())),
                "missing": float(sum(missing.values())),
                "failed": float(answer["failed"]),
                "queued": float(answer["queued"]),
                **{f"extra.{k}": float(v) for k, v in extra.items()},
                **{f"missing.{k}": float(v) for k, v in missing.items()},
            }
        )
    h.stop(gateway)
    h.stop(sandbox)
    m = medians(runs)
    slowest = max(needed, key=lambda p: needed[p])
    return Outcome(
        figures=[
            Figure(
                "bulk.wall",
                m["wall_s"],
                "s",
                Target(">=", 0.9, f">= 90% of bound {bound:.1f} s"),
                m["ratio"],
                note=f"{count} contacts x 5 providers; bound set by {slowest.value}: "
                f"{needed[slowest]} calls at {BULK_RATE.requests:g}/s",
            ),
            Figure(
                "bulk.extra_calls",
                m["extra_calls"],
                "calls",
                note="calls beyond the bound's count (sandbox stats): 429s retried",
            ),
            Figure(
                "bulk.failed_writes",
                m["failed"],
                "writes",
                Target("<=", 0, "0", on="value"),
                note="provider writes the job ended FAILED",
            ),
            Figure(
                "bulk.missing_records",
                m["missing"],
                "writes",
                Target("<=", m["failed"], "= failed writes", on="value"),
                note="inputs some provider does not hold afterwards (more than FAILED: a false "
                "success)",
            ),
        ],
        details={
            "runs": runs,
            "bound_s": bound,
            "calls_needed": {p.value: n for p, n in needed.items()},
            "rate_limit": {"requests": BULK_RATE.requests, "per_seconds": BULK_RATE.per_seconds},
        },
    )


# -- 6. abuse ----------------------------------------------------------------------------


def provider_calls(controls: SandboxControls) -> int:
    """Calls every sandbox provider has received since its stats were reset."""
    return sum(sum(controls.stats(p.value).values()) for p in Provider)


def _abuse_figures(item: Abuse, answers: Sequence[Answer], calls: Sequence[int]) -> list[Figure]:
    refusals = sorted({a.refusal for a in answers})
    size = len(item.body)
    sent = median([a.sent for a in answers])
    read = f"; answered with {sent / 1e6:.1f} of {size / 1e6:.1f} MB written" if sent < size else ""
    return [
        Figure(
            f"abuse.{item.name}.provider_calls",
            max(calls),
            "calls",
            Target("<=", 0, "0", on="value"),
            note=f"{item.what}; most in any run",
        ),
        Figure(
            f"abuse.{item.name}.time",
            median([a.seconds * 1000 for a in answers]),
            "ms",
            note=" / ".join(refusals) + read,
        ),
    ]


def abuse(h: Harness) -> Outcome:
    """The requests the gateway was found vulnerable to, against the default [limits]:
    the provider calls each made, the time to its refusal and what the refusal was, and
    the gateway worker's RSS before them, right after and after a few seconds idle."""
    sandbox, controls = h.sandbox()
    gateway = h.gateway(gateway_config(sandbox.url), label="abuse")
    [worker] = gateway.worker_pids()
    items = abuses()
    # A normal query first, so that the RSS before the abuse is a warm worker's.
    email = three_provider_emails()[0]
    post_graphql(gateway, ONE_CONTACT, {"email": email})
    before = rss_mb(worker)
    answers: dict[str, list[Answer]] = {item.name: [] for item in items}
    calls: dict[str, list[int]] = {item.name: [] for item in items}
    after_run: list[float | None] = []
    for _ in range(h.options.runs):
        for item in items:
            controls.reset_stats()
            answers[item.name].append(send(gateway.port, item))
            calls[item.name].append(provider_calls(controls))
        after_run.append(rss_mb(worker))
    after = after_run[-1]
    time.sleep(ABUSE_IDLE)
    idle = rss_mb(worker)
    # Still serving after it: a normal query is answered without errors.
    post_graphql(gateway, ONE_CONTACT, {"email": email})
    h.stop(gateway)
    h.stop(sandbox)
    if before is None or after is None or idle is None:
        raise BenchError("the gateway worker's /proc/<pid>/status could not be read")
    figures = [
        f for item in items for f in _abuse_figures(item, answers[item.name], calls[item.name])
    ]
    figures += [
        Figure(
            "abuse.rss.before", before, "MB", note="VmRSS of the worker, warm, before the abuse"
        ),
        Figure(
            "abuse.rss.after",
            after - before,
            "MB",
            note=f"growth right after {len(items) * h.options.runs} abusive requests",
        ),
        Figure(
            "abuse.rss.idle",
            idle - before,
            "MB",
            Target("<=", ABUSE_RSS_SLACK_MB, f"<= {ABUSE_RSS_SLACK_MB:g} MB", on="value"),
            note=f"growth after {ABUSE_IDLE:g} s idle",
        ),
    ]
    return Outcome(
        figures=figures,
        details={
            "requests": {
                item.name: {
                    "what": item.what,
                    "body_bytes": len(item.body),
                    "chunked": item.chunked,
                    "runs": [
                        {
                            "status": a.status,
                            "code": a.code,
                            "limit": a.limit,
                            "ms": a.seconds * 1000,
                            "sent_bytes": a.sent,
                            "provider_calls": n,
                        }
                        for a, n in zip(answers[item.name], calls[item.name], strict=True)
                    ],
                }
                for item in items
            },
            "rss_mb": {"before": before, "after_each_run": after_run, "idle": idle},
            "idle_s": ABUSE_IDLE,
        },
    )


# -- 7. the identity store's overhead -------------------------------------------------------


def warmup_emails(seed: int = 0) -> list[str]:
    """Emails of the seed's people who are in Adaptix and Trustmary but not Lunar Send:
    a warm-up that leaves the three-provider people unseen."""
    return [
        person.records[Provider.ADAPTIX.value].email
        for person in generate(seed).people
        if {Provider.ADAPTIX.value, Provider.TRUSTMARY.value} == person.records.keys()
    ]


def store(h: Harness) -> Outcome:
    """contact(email:) with the store and without it: 1 client, 1 worker, sandbox at 0 ms.

    Each run starts a gateway with a new store, warms it up on other people, looks
    the three-provider people up for the first time (each lookup mints a person and
    writes its links), then times them again, now known, against a gateway without a
    store: one client sends each query to one gateway and then the other, so that
    both are timed under the same conditions (a drift in the machine's speed, the
    load generator's process) request by request."""
    sandbox, _ = h.sandbox()
    emails = three_provider_emails()
    units = [[graphql(ONE_CONTACT, {"email": email})] for email in emails]
    warm = [[graphql(ONE_CONTACT, {"email": email})] for email in warmup_emails()]
    per_side = max(100, int(h.options.seconds * 75))
    without = h.gateway(gateway_config(sandbox.url, store=False), label="store-without")
    h.load(without, warm + units, "warm-up without the store", count=len(warm + units))
    plain_id = post_graphql(without, ONE_CONTACT, {"email": emails[0]})["data"]["contact"]["id"]
    runs = []
    first_sightings = []
    for run in range(h.options.runs):
        gateway = h.gateway(gateway_config(sandbox.url), label=f"store-with-{run}")
        h.load(gateway, warm, "warm-up with the store", count=len(warm))
        first = h.load(gateway, units, "first sightings", count=len(units))
        first_sightings.append(first.latencies_ms)
        contact = post_graphql(gateway, ONE_CONTACT, {"email": emails[0]})["data"]["contact"]
        if contact["id"] == plain_id:
            raise BenchError("the gateway with a store answered the id made from the email")
        # Each query to both gateways, which one first in turns.
        sides: list[str] = []
        both: list[list[Request]] = []
        for i, unit in enumerate(units):
            for side in ("with", "without") if i % 2 == 0 else ("without", "with"):
                sides.append(side)
                both.append(unit if side == "with" else [replace(unit[0], port=without.port)])
        before = {"with": gateway.cpu_seconds(), "without": without.cpu_seconds()}
        result = h.load(gateway, both, "with and without the store", count=2 * per_side, warmup=0.3)
        cpu = {
            "with": gateway.cpu_seconds() - before["with"],
            "without": without.cpu_seconds() - before["without"],
        }
        h.stop(gateway)
        latencies: dict[str, list[float]] = {"with": [], "without": []}
        for index, ms in zip(result.units, result.latencies_ms, strict=True):
            latencies[sides[index]].append(ms)
        # Both gateways answered every unit of theirs, the warm-up's too.
        answered = (result.ok + result.warmup_units) / 2
        p50 = {side: percentile(values, 50) for side, values in latencies.items()}
        runs.append(
            {
                "with": p50["with"],
                "without": p50["without"],
                "added": p50["with"] - p50["without"],
                "first_sighting": percentile(first.latencies_ms, 50),
                "with_p90": percentile(latencies["with"], 90),
                "without_p90": percentile(latencies["without"], 90),
                "cpu_with_us": cpu["with"] * 1e6 / answered,
                "cpu_without_us": cpu["without"] * 1e6 / answered,
            }
        )
    h.stop(without)
    h.stop(sandbox)
    m = medians(runs)
    return Outcome(
        figures=[
            Figure(
                "store.with_p50",
                m["with"],
                "ms",
                note=f"{len(emails)} people already known, 1 client, 1 worker, sandbox at 0 ms",
            ),
            Figure("store.without_p50", m["without"], "ms", note="[store] enabled = false"),
            Figure(
                "store.added_p50",
                m["added"],
                "ms",
                Target("<=", STORE_ADDED_MS, f"<= {STORE_ADDED_MS:g} ms", on="value"),
                m["added"] / STORE_ADDED_MS,
                note="p50 with - p50 without, their requests in turns; "
                f"gateway CPU {m['cpu_with_us']:.0f} vs {m['cpu_without_us']:.0f} us/request",
            ),
            Figure(
                "store.first_sighting_p50",
                m["first_sighting"],
                "ms",
                note=f"p50 over {len(emails)} emails new to the store: each mints a person "
                "and links 3 records",
            ),
        ],
        details={
            "runs": runs,
            "requests_per_side": per_side,
            "people": len(emails),
            "first_sightings_ms": first_sightings,
        },
    )


# -- the write journal ------------------------------------------------------------------


def journal(h: Harness) -> Outcome:
    """upsertContact to all five providers with the store (so the write journal) and
    without: 1 client, 1 worker, sandbox at 0 ms, requests to the two gateways in turns."""
    sandbox, _ = h.sandbox(seed=None)
    per_side = max(100, int(h.options.seconds * 40))
    people = [
        {
            "email": f"journal.{i}@bench.test",
            "externalId": f"journal-{i}",
            "accountExternalId": "bench-account",
            "firstName": "Journal",
            "lastName": f"Person{i}",
        }
        for i in range(per_side)
    ]
    without = h.gateway(gateway_config(sandbox.url, store=False), label="journal-without")
    runs = []
    for run in range(h.options.runs):
        gateway = h.gateway(gateway_config(sandbox.url), label=f"journal-with-{run}")
        sides: list[str] = []
        both: list[list[Request]] = []
        for i, person in enumerate(people):
            unit = [graphql(UPSERT_ONE, {"input": person})]
            for side in ("with", "without") if i % 2 == 0 else ("without", "with"):
                sides.append(side)
                both.append(unit if side == "with" else [replace(unit[0], port=without.port)])
        result = h.load(gateway, both, "upserts with and without", count=len(both), warmup=0.3)
        probe = post_graphql(gateway, UPSERT_ONE, {"input": people[0]})["data"]["upsertContact"]
        if not probe["operationId"]:
            raise BenchError("the gateway with a store answered no operationId")
        h.stop(gateway)
        latencies: dict[str, list[float]] = {"with": [], "without": []}
        for index, ms in zip(result.units, result.latencies_ms, strict=True):
            latencies[sides[index]].append(ms)
        p50 = {side: percentile(values, 50) for side, values in latencies.items()}
        runs.append(
            {"with": p50["with"], "without": p50["without"], "added": p50["with"] - p50["without"]}
        )
    h.stop(without)
    h.stop(sandbox)
    for measured in runs:
        begin, record = journal_own_ms(per_side)
        measured.update(begin=begin, record=record, own=begin + record)
    m = medians(runs)
    return Outcome(
        figures=[
            Figure(
                "journal.own_p50",
                m["own"],
                "ms",
                Target("<=", JOURNAL_ADDED_MS, f"<= {JOURNAL_ADDED_MS:g} ms", on="value"),
                m["own"] / JOURNAL_ADDED_MS,
                note=f"what the journal adds to a write: begin {m['begin']:.2f} ms (before the "
                f"first provider call) + record {m['record']:.2f} ms (the outcomes), p50 "
                "in-process on SQLite, 5 legs",
            ),
            Figure(
                "journal.with_p50",
                m["with"],
                "ms",
                note="upsertContact to 5 providers, sandbox at 0 ms",
            ),
            Figure("journal.without_p50", m["without"], "ms", note="[store] enabled = false"),
            Figure(
                "journal.added_p50",
                m["added"],
                "ms",
                note="end to end, p50 with the store - p50 without, in turns: the journal and "
                "the identity store's links (and the rest a store brings), on SQLite",
            ),
        ],
        details={"runs": runs, "requests_per_side": per_side},
    )


# -- telemetry -----------------------------------------------------------------------------


def telemetry(h: Harness) -> Outcome:
    """contact(email:) with traces on (10% of requests sampled, their spans made, then
    dropped) and off, in turns, 1 client, sandbox at 0 ms; and what recording one such
    operation's metrics costs."""
    sandbox, _ = h.sandbox()
    emails = three_provider_emails()
    units = [[graphql(ONE_CONTACT, {"email": email})] for email in emails]
    per_side = max(100, int(h.options.seconds * 75))
    plain = h.gateway(gateway_config(sandbox.url), label="traces-off")
    runs = []
    for run in range(h.options.runs):
        traced = h.gateway(gateway_config(sandbox.url, traces=True), label=f"traces-on-{run}")
        h.load(traced, units, "warm-up with traces", count=len(units))
        sides: list[str] = []
        both: list[list[Request]] = []
        for i, unit in enumerate(units * (per_side // len(units) + 1)):
            for side in ("on", "off") if i % 2 == 0 else ("off", "on"):
                sides.append(side)
                both.append(unit if side == "on" else [replace(unit[0], port=plain.port)])
        result = h.load(traced, both, "traces on and off", count=len(both), warmup=0.3)
        h.stop(traced)
        latencies: dict[str, list[float]] = {"on": [], "off": []}
        for index, ms in zip(result.units, result.latencies_ms, strict=True):
            latencies[sides[index]].append(ms)
        p50 = {side: percentile(values, 50) for side, values in latencies.items()}
        runs.append(
            {
                "on": p50["on"],
                "off": p50["off"],
                "traces": p50["on"] - p50["off"],
                "metrics": metrics_cost_ms(),
            }
        )
    h.stop(plain)
    h.stop(sandbox)
    m = medians(runs)
    both_ms = m["traces"] + m["metrics"]
    return Outcome(
        figures=[
            Figure(
                "telemetry.added_p50",
                both_ms,
                "ms",
                Target("<=", TELEMETRY_ADDED_MS, f"<= {TELEMETRY_ADDED_MS:g} ms", on="value"),
                both_ms / TELEMETRY_ADDED_MS,
                note=f"traces {m['traces']:.3f} ms (p50 on - off, in turns) + metrics "
                f"{m['metrics']:.3f} ms (recording one lookup's: 1 operation, 3 calls)",
            ),
            Figure("telemetry.on_p50", m["on"], "ms", note="contact(email:), traces on"),
            Figure("telemetry.off_p50", m["off"], "ms", note="the same, traces off"),
        ],
        details={"runs": runs},
    )


def metrics_cost_ms() -> float:
    """p50 of recording the metrics of one lookup (an operation and its three provider
    calls), in this process."""
    from gateway.telemetry import metrics

    samples = []
    for _ in range(2000):
        started = time.perf_counter()
        for provider in ("adaptix", "trustmary", "lunarsend"):
            metrics.provider_call(provider, "GET", 200, 0.003)
        metrics.operation("BenchLookup", "query", "ok", 0.004)
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50)


def journal_own_ms(count: int) -> tuple[float, float]:
    """p50 of `Journal.begin` and of `Journal.record` for a write to the five providers,
    on a fresh SQLite store in this process."""
    import asyncio
    import tempfile

    from gateway.store import open_store
    from gateway.store.journal import Journal, LegOutcome

    async def measure() -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as directory:
            store = open_store(f"sqlite:///{directory}/journal.db")
            await store.migrate()
            journal = Journal(store)
            legs = [(0, provider) for provider in Provider]
            begins: list[float] = []
            records: list[float] = []
            for i in range(count + 20):
                request = {"inputs": [{"email": f"own.{i}@bench.test", "firstName": "Own"}]}
                started = time.perf_counter()
                operation = await journal.begin("upsertContact", request, legs, lease=30)
                begun = time.perf_counter()
                outcomes = {leg: LegOutcome("created", f"r{i}") for leg in legs}
                await journal.record(operation, outcomes, every_leg=True)
                if i >= 20:  # warmed up
                    begins.append((begun - started) * 1000)
                    records.append((time.perf_counter() - begun) * 1000)
            await store.close()
        return percentile(begins, 50), percentile(records, 50)

    return asyncio.run(measure())


# -- 8. the record cache -----------------------------------------------------------------


def cached(h: Harness) -> Outcome:
    """contacts(first: 50) with sources, Lunar Send paced at 2 requests a second and
    `[cache] ttl = 600`: the first listing (every Lunar Send lookup made at that pace),
    the same again at once (every record from the cache), and later, once the store's
    memory of who is who has expired (every person identified from the store). A new
    gateway and store for each run, so the first listing is cold; a run's later
    listing waits for the next run's cold one."""
    sandbox, controls = h.sandbox()
    controls.set(Provider.LUNARSEND.value, rate_limit=CACHED_RATE)
    data = dataset(controls)
    listed = len(listed_people(CACHED_PAGE, data))
    # The query asks for no activity: the listing bound without activity calls.
    bound = listing_bound(CACHED_PAGE, data, cost_models(), activity=False)
    paced = paced_seconds(
        {Provider.LUNARSEND: bound[Provider.LUNARSEND]}, {Provider.LUNARSEND: CACHED_RATE}
    )
    config = gateway_config(
        sandbox.url, rate_limits={Provider.LUNARSEND: CACHED_RATE}, cache_ttl=CACHE_TTL
    )
    request = [[graphql(CACHED_LISTING, {"first": CACHED_PAGE})]]

    def listing(gateway: Server, phase: str, measured: dict[str, float]) -> Any:
        controls.reset_stats()
        result = h.load(
            gateway, request, f"{phase} listing", count=1, timeout=paced * 2 + 60, keep_bodies=1
        )
        measured[f"{phase}.ms"] = result.latencies_ms[0]
        for provider in READABLE:
            measured[f"{phase}.{provider.value}"] = float(
                sum(controls.stats(provider.value).values())
            )
        return json.loads(result.bodies[0])["data"]["contacts"]["edges"]

    def later(gateway: Server, measured: dict[str, float], cold: Any, since: float) -> None:
        time.sleep(max(0.0, since + STORE_MEMORY_S + 1 - time.monotonic()))
        if listing(gateway, "later", measured) != cold:
            raise BenchError("the later listing differs from the first")
        h.stop(gateway)

    runs: list[dict[str, float]] = []
    waiting: tuple[Server, dict[str, float], Any, float] | None = None
    for run in range(h.options.runs):
        gateway = h.gateway(config, label=f"cached-{run}")
        measured: dict[str, float] = {}
        cold = listing(gateway, "cold", measured)
        if len(cold) != listed:
            raise BenchError(f"contacts(first: {CACHED_PAGE}) listed {len(cold)}")
        if listing(gateway, "warm", measured) != cold:
            raise BenchError("the listing from the cache differs from the one from providers")
        if waiting is not None:
            later(*waiting)
        waiting = (gateway, measured, cold, time.monotonic())
        runs.append(measured)
    if waiting is not None:
        later(*waiting)
    h.stop(sandbox)
    m = medians(runs)
    lunarsend = bound[Provider.LUNARSEND]

    def others(phase: str) -> str:
        calls = [(p, m[f"{phase}.{p.value}"]) for p in READABLE if p is not Provider.LUNARSEND]
        if phase == "cold":
            return ", ".join(f"{p.value} {n:.0f} (bound {bound[p]})" for p, n in calls)
        return ", ".join(f"{p.value} {n:.0f}" for p, n in calls)

    return Outcome(
        figures=[
            Figure(
                "cached.cold.wall",
                m["cold.ms"] / 1000,
                "s",
                ratio=paced / (m["cold.ms"] / 1000),
                note=f"bound {paced:.1f} s: {lunarsend} Lunar Send searches at "
                f"{CACHED_RATE.requests:g}/s; ratio = bound / wall",
            ),
            Figure(
                "cached.cold.lunarsend",
                m["cold.lunarsend"],
                "calls",
                Target("<=", 1.0, f"= bound {lunarsend}"),
                m["cold.lunarsend"] / lunarsend if lunarsend else None,
                note=f"one search per listed person; {others('cold')}",
            ),
            Figure(
                "cached.warm.wall",
                m["warm.ms"],
                "ms",
                Target("<=", CACHED_WARM_MS, f"< {CACHED_WARM_MS:g} ms", on="value"),
                m["warm.ms"] / CACHED_WARM_MS,
                note="the same listing again, records from [cache] (ttl 600 s)",
            ),
            Figure(
                "cached.warm.lunarsend",
                m["warm.lunarsend"],
                "calls",
                Target("<=", 0, "0", on="value"),
                note=f"other providers: {others('warm')}",
            ),
            Figure(
                "cached.later.wall",
                m["later.ms"],
                "ms",
                note=f"the same again after the store's memory ({STORE_MEMORY_S:g} s) expired: "
                f"people identified from the store; Lunar Send {m['later.lunarsend']:.0f} calls",
            ),
        ],
        details={
            "runs": runs,
            "bound_calls": {p.value: n for p, n in bound.items()},
            "bound_s": paced,
            "listed": listed,
            "rate_limit": {
                "requests": CACHED_RATE.requests,
                "per_seconds": CACHED_RATE.per_seconds,
            },
            "ttl_s": CACHE_TTL,
        },
    )


# -- 9. memory --------------------------------------------------------------------------


def memory(h: Harness) -> Outcome:
    """The highest peak RSS of any gateway worker the run has started (large answer
    first when nothing has run yet)."""
    details: dict[str, Any] = {}
    if not h.peak_rss_mb:
        details["ran"] = "large"
        large(h)
    # A profiled gateway carries the profiler's own records: an instrument, not a worker.
    serving = {n: mb for n, mb in h.peak_rss_mb.items() if not n.startswith("gateway-profile")}
    peak_name = max(serving or h.peak_rss_mb, key=h.peak_rss_mb.__getitem__)
    peak = h.peak_rss_mb[peak_name]
    details["peak_rss_mb"] = dict(h.peak_rss_mb)
    return Outcome(
        figures=[
            Figure(
                "memory.peak_rss",
                peak,
                "MB",
                Target("<=", 150.0, "<= 150 MB", on="value"),
                peak / 150.0,
                note=f"VmHWM, highest in {peak_name}",
            )
        ],
        details=details,
    )


# -- 10. store growth ----------------------------------------------------------------------


def growth(h: Harness) -> Outcome:
    """The store's SQLite file per person after `GROWTH_PEOPLE` people, fed in-process
    (`bench/growth.py`), and the time of each `Identities` call it took."""
    people = growth_people(GROWTH_PEOPLE)
    runs = []
    details: dict[str, Any] = {}
    for run in range(h.options.runs):
        path = h.workdir / f"growth-{run}.db"
        result = measure_growth(path, people)
        path.unlink(missing_ok=True)
        runs.append(
            {
                "bytes_per_person": result.file_bytes / result.people,
                "identify_ms": percentile(result.identify_ms, 50),
                "identify_p99_ms": percentile(result.identify_ms, 99),
                "wrote_ms": percentile(result.wrote_ms, 50),
                "known_ms": percentile(result.known_ms, 50),
            }
        )
        details = {
            "people": result.people,
            "records": result.records,
            "written": result.written,
            "file_bytes": result.file_bytes,
            "rows": result.rows,
            "bytes_by_table": result.tables,
            "identify_ms_first_last": [result.identify_ms[0], result.identify_ms[-1]],
        }
    m = medians(runs)
    records = details["records"] / details["people"]
    return Outcome(
        figures=[
            Figure(
                "growth.bytes_per_person",
                m["bytes_per_person"],
                "B",
                note=f"SQLite file after VACUUM / {GROWTH_PEOPLE:,}: persons, links, "
                f"identifiers, their indexes ({records:.2f} records a person; "
                f"1 in {WRITTEN_EVERY} also written to Akita and Interakt)",
            ),
            Figure(
                "growth.identify_batch",
                m["identify_ms"],
                "ms",
                note=f"Identities.identify of {PAGE} new people (a listing page), p50; "
                f"p99 {m['identify_p99_ms']:.0f} ms",
            ),
            Figure(
                "growth.known_batch",
                m["known_ms"],
                "ms",
                note=f"the same for {PAGE} known people, read from the store (not memory)",
            ),
            Figure(
                "growth.wrote_batch",
                m["wrote_ms"],
                "ms",
                note=f"Identities.wrote_many of {PAGE} people x Akita and Interakt, p50",
            ),
        ],
        details={"runs": runs, **details},
    )


# -- side by side with Hive Gateway ---------------------------------------------------------


def _side_by_side_run(
    h: Harness, server: Server, units: list[list[Request]], what: str
) -> dict[str, float]:
    before = peer.tree_cpu_seconds(server)
    result = h.load(server, units, what, concurrency=32, duration=h.options.seconds, warmup=1.0)
    answered = result.ok + result.warmup_units
    return {
        "rps": result.rps,
        "p50": percentile(result.latencies_ms, 50),
        "p99": percentile(result.latencies_ms, 99),
        "cpu_ms": (peer.tree_cpu_seconds(server) - before) * 1000 / answered,
    }


def hive(h: Harness) -> Outcome:
    """The merged lookup `contact(email:)` (Adaptix, Trustmary, Lunar Send) through
    contact-gateway and through Hive Gateway, one worker each, against one sandbox:
    32 clients, runs alternating which goes first; then 1 client at 50 ms providers."""
    why = peer.missing()
    if why is not None:
        raise BenchError(f"hive: {why}")
    sandbox, controls = h.sandbox()
    emails = three_provider_emails()
    ours = h.gateway(gateway_config(sandbox.url), label="side-by-side")
    theirs = h.peer(lambda: peer.start_hive(h.workdir, sandbox.url))
    # Both answer the same person from the same three records.
    mine = post_graphql(ours, peer.OURS, {"email": emails[0]})["data"]["contact"]
    other = post_graphql(theirs, peer.THEIRS, {"email": emails[0]})["data"]["contact"]
    if len(mine["sources"]) != 3 or len(other["sources"]) != 3:
        raise BenchError(f"expected 3 sources from both gateways: {mine}, {other}")
    loads = {
        "contact-gateway": (ours, [[graphql(peer.OURS, {"email": e})] for e in emails]),
        "hive": (theirs, [[graphql(peer.THEIRS, {"email": e})] for e in emails]),
    }
    # Both warmed up first: Hive's JIT compiles its hot paths during the first seconds
    # of load (a cold first run reads ~50% more CPU per request), and ours fills its
    # connection pools and document cache.
    for name, (server, units) in loads.items():
        h.load(server, units, f"{name} warm-up", concurrency=32, duration=HIVE_WARMUP)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in loads}
    for run in range(h.options.runs):
        order = list(loads) if run % 2 == 0 else list(reversed(loads))
        for name in order:
            server, units = loads[name]
            runs[name].append(_side_by_side_run(h, server, units, f"{name} side by side"))
    fanned: dict[str, list[float]] = {name: [] for name in loads}
    for provider in READABLE:
        controls.set(provider.value, latency_ms=FANOUT_LATENCY_MS)
    count = max(50, int(h.options.seconds * 15))
    for _ in range(h.options.runs):
        for name, (server, units) in loads.items():
            result = h.load(server, units, f"{name} fan-out", count=count, warmup=0.3)
            fanned[name].append(percentile(result.latencies_ms, 50))
    h.stop(theirs)
    h.stop(ours)
    h.stop(sandbox)

    m = {name: medians(found) for name, found in runs.items()}
    us, them = m["contact-gateway"], m["hive"]
    fan = {name: median(found) for name, found in fanned.items()}
    # The figures are ratios of medians; each run beside its neighbour (a run of the
    # other gateway seconds apart) gives a ratio too, which the machine's drift moves less.
    paired = {
        key: [a[key] / b[key] for a, b in zip(runs["contact-gateway"], runs["hive"], strict=True)]
        for key in ("rps", "cpu_ms", "p99")
    }
    figures = [
        Figure(
            "hive.rps_ratio",
            us["rps"] / them["rps"],
            "x",
            Target(">=", 1.5, ">= 1.5 x Hive's req/s", on="value"),
            note=f"{us['rps']:.0f} vs {them['rps']:.0f} req/s, 32 clients, 1 worker each; "
            + _per_run(paired["rps"]),
        ),
        Figure(
            "hive.cpu_ratio",
            us["cpu_ms"] / them["cpu_ms"],
            "x",
            Target("<=", 0.66, "<= 0.66 x Hive's CPU/req", on="value"),
            note=f"{us['cpu_ms']:.2f} vs {them['cpu_ms']:.2f} ms per request (process trees); "
            + _per_run(paired["cpu_ms"]),
        ),
        Figure(
            "hive.p99_ratio",
            us["p99"] / them["p99"],
            "x",
            Target("<=", 1.0, "p99 <= Hive's", on="value"),
            note=f"p99 {us['p99']:.1f} vs {them['p99']:.1f} ms; "
            f"p50 {us['p50']:.1f} vs {them['p50']:.1f} ms",
        ),
        Figure(
            "hive.fanout_p50",
            fan["contact-gateway"],
            "ms",
            Target("<=", 1.15, "<= 1.15 x 50 ms"),
            fan["contact-gateway"] / FANOUT_LATENCY_MS,
            note=f"Hive {fan['hive']:.1f} ms; 3 providers at 50 ms, 1 client",
        ),
    ]
    details: dict[str, Any] = {
        "runs": runs,
        "fanout_p50": fanned,
        "medians": m,
        "per_run_ratios": paired,
    }
    if h.options.charts is not None:
        path = Path(h.options.charts) / "hive.png"
        chart.side_by_side(m, fan, path, latency_ms=FANOUT_LATENCY_MS)
        details["chart"] = str(path)
        h.say(f"bench: drew {path}")
    return Outcome(figures=figures, details=details)


def _per_run(ratios: Sequence[float]) -> str:
    """Run-by-run ratios in a note: their median and range."""
    return f"per run {median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


# -- instructions per merged lookup (callgrind) ---------------------------------------------

COUNTED_LOOKUPS = 300
COUNTED_CLIENTS = 16


def instructions(h: Harness) -> Outcome:
    """The merged lookup of `hive` (`contact(email:)` over Adaptix, Trustmary and Lunar
    Send) in instructions the gateway's process executes per request: one worker under
    callgrind, 16 clients, 300 lookups after a warm-up (see `bench.instructions`)."""
    why = counted.missing()
    if why is not None:
        raise BenchError(f"instructions: {why}")
    sandbox, _ = h.sandbox()
    units = [[graphql(peer.OURS, {"email": e})] for e in three_provider_emails()]
    server = counted.start_counted(h.workdir, gateway_config(sandbox.url), peer.free_port())
    h.servers.append(server)
    h.gateways.add(server.name)  # its answers are checked for GraphQL errors
    warm = 2 * len(units) + 50
    h.load(server, units, "counted warm-up", concurrency=COUNTED_CLIENTS, count=warm, timeout=120)
    counted.counting(server, on=True)
    h.load(
        server,
        units,
        "counted lookups",
        concurrency=COUNTED_CLIENTS,
        count=COUNTED_LOOKUPS,
        timeout=120,
    )
    counted.counting(server, on=False)
    h.servers.remove(server)
    total = counted.collected(server)
    h.stop(sandbox)
    per_request = total / COUNTED_LOOKUPS
    return Outcome(
        figures=[
            Figure(
                "instructions.merged_lookup",
                per_request / 1e6,
                "M",
                note=f"instructions per contact(email:) in the gateway's process, "
                f"{COUNTED_CLIENTS} clients, {COUNTED_LOOKUPS} lookups (callgrind)",
            )
        ],
        details={"instructions": total, "lookups": COUNTED_LOOKUPS},
    )


SCENARIOS: dict[str, Callable[[Harness], Outcome]] = {
    "loadgen": loadgen_ceiling,
    "fanout": fanout,
    "calls": calls,
    "throughput": throughput,
    "large": large,
    "bulk": bulk,
    "abuse": abuse,
    "store": store,
    "journal": journal,
    "telemetry": telemetry,
    "hive": hive,
    "instructions": instructions,
    "cached": cached,
    "memory": memory,
    "growth": growth,
}
# Not run unless asked for by name: cached waits ~26 s a run for Lunar Send's pace, and
# growth's 10,000 people take ~50 s a run; with them the default run would pass 6 minutes.
# hive needs node and npm (and fills an npm cache the first time); instructions needs
# valgrind, and a minute.
BY_NAME_ONLY = ("hive", "instructions", "cached", "growth")
DEFAULT = tuple(name for name in SCENARIOS if name not in BY_NAME_ONLY)


def estimate_seconds(name: str, options: Options) -> float:
    """Roughly how long a scenario takes (to say so before it starts)."""
    runs, seconds = options.runs, options.seconds
    cold_listing = paced_seconds(
        {Provider.LUNARSEND: CACHED_PAGE}, {Provider.LUNARSEND: CACHED_RATE}
    )
    rough = {
        "loadgen": 2 + runs * 3.5,
        "fanout": 3 + runs * (seconds + 0.5),
        "calls": 4 + runs * 3,
        "throughput": 8 + runs * 2 * (seconds + 1) + runs * 4 + seconds,
        "large": 8 + runs * 4,
        "bulk": 3
        + runs * paced_seconds(bulk_write_calls(options.bulk_size, list(Provider)), BULK_LIMITS),
        "abuse": 3 + runs * 1 + ABUSE_IDLE,
        "store": 4 + runs * 9,
        "journal": 4 + runs * 6,
        "telemetry": 4 + runs * 8,
        "hive": 20
        + 2 * HIVE_WARMUP
        + runs * 2 * (seconds + 1.5)
        + runs * 2 * max(50, seconds * 15) * 0.06,
        "instructions": 60,
        "cached": 2 + runs * (3 + cold_listing) + 11,
        "memory": 1,
        "growth": 1 + runs * GROWTH_PEOPLE * 0.0055,
    }
    return math.ceil(rough[name])
