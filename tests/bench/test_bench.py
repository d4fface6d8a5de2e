from __future__ import annotations

import asyncio
import cProfile
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from graphql import parse, validate

from bench import main, scenarios
from bench.abuse import Abuse, Answer, abuses
from bench.abuse import _chunks as chunks
from bench.bounds import (
    CostModel,
    Dataset,
    bulk_write_calls,
    cost_models,
    listed_people,
    listing_bound,
    paced_seconds,
)
from bench.cli import run_scenario
from bench.growth import growth_people
from bench.harness import Harness, Options, Outcome
from bench.loadgen import LoadSpec, Request, encode, read_response, run_load
from bench.profile import stage_of_file, summarise_profile
from bench.report import Figure, Report, Target, load_figures, table, write_json
from bench.servers import Server, ServerError, gateway_config, start_server, with_store
from bench.stats import median, medians, percentile
from connectors.settings import RateLimit
from gateway.config import DEFAULT_STORE, Limits, load_config
from gateway.domain.normalize import normalize_email
from gateway.domain.records import Provider
from resolvers.runtime import internals
from resolvers.schema import schema
from sandbox.seed import generate
from tests.support import gateway_settings

A, T, L = Provider.ADAPTIX, Provider.TRUSTMARY, Provider.LUNARSEND


# -- percentiles and medians ---------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(range(1, 101), 99) == pytest.approx(99.01)
    assert median([7.0]) == 7.0


@pytest.mark.parametrize(
    ("values", "q"), [([], 50), ([1.0], -1), ([1.0], 100.5)], ids=["empty", "below", "above"]
)
def test_percentile_refuses_what_has_none(values: list[float], q: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, q)


def test_medians_take_each_key_over_the_runs_that_have_it() -> None:
    runs = [{"p50": 10.0, "rps": 100.0}, {"p50": 30.0}, {"p50": 20.0, "rps": 300.0}]
    assert medians(runs) == {"p50": 20.0, "rps": 200.0}


# -- lower bounds -------------------------------------------------------------------------


def test_cost_models_are_the_documented_apis_not_the_connectors() -> None:
    models = cost_models()
    assert set(models) == {A, T, L}  # Akita and Interakt cannot be read
    # Adaptix reads any number of ids or emails in one call (no documented maximum).
    assert models[A] == CostModel(A, True, None, True, None, 2)
    # Trustmary: pages of 1000, or one email a call.
    assert models[T] == CostModel(T, True, 1000, True, 1, 0)
    assert models[L] == CostModel(L, False, None, True, 1, 0)
    assert models[A].lookup_calls(450, pages_left=None) == 1
    assert models[L].lookup_calls(450, pages_left=None) == 450


def test_write_bounds_take_the_documented_batch_maximum() -> None:
    calls = bulk_write_calls(450, [A, T, L])
    assert calls == {A: 3, T: 450, L: 900}


def small_dataset() -> Dataset:
    adaptix = ["a1", "a2", "a3", "a4", "a5"]
    trustmary = ["a1", "t1", "t2"]
    lunarsend = ["a1", "t1"]
    return Dataset(
        listing=[(A, adaptix), (T, trustmary)],
        emails={A: frozenset(adaptix), T: frozenset(trustmary), L: frozenset(lunarsend)},
    )


def test_a_page_within_adaptix_costs_one_list_call_plus_activity() -> None:
    # Trustmary: three emails to look up cost one page read; Lunar Send one search each.
    assert listing_bound(3, small_dataset(), cost_models()) == {A: 1 + 2 * 3, T: 1, L: 3}


def test_a_page_into_trustmary_reads_its_page_once_and_skips_duplicates() -> None:
    data = small_dataset()
    assert listed_people(7, data) == [
        (A, "a1"),
        (A, "a2"),
        (A, "a3"),
        (A, "a4"),
        (A, "a5"),
        (T, "t1"),
        (T, "t2"),
    ]
    # Adaptix was read whole by its one list call, so the duplicate check is free.
    assert listing_bound(7, data, cost_models()) == {A: 1 + 2 * 5, T: 1, L: 7}


def test_trustmary_lookups_take_the_cheaper_of_searches_and_unread_pages() -> None:
    models = {**cost_models(), T: CostModel(T, True, 2, True, 1, 0)}
    trustmary = ["t1", "t2", "t3", "t4", "t5", "t6"]
    data = Dataset(
        listing=[(A, ["a1"]), (T, trustmary)],
        emails={A: frozenset({"a1"}), T: frozenset(trustmary), L: frozenset()},
    )
    # Listing 3 people reads Trustmary's first page (2 contacts) and needs a1 checked in
    # Trustmary: one search beats the two pages left.
    assert listing_bound(3, data, models)[T] == 1 + 1
    # With only Adaptix listed, a1 costs one Trustmary search instead of three pages.
    assert listing_bound(1, data, models)[T] == 1


def test_seed_bounds_match_the_documented_apis() -> None:
    data = seed_dataset()
    models = cost_models()
    assert len(data.emails[A]) == 180
    assert listing_bound(10, data, models) == {A: 21, T: 1, L: 10}
    assert listing_bound(100, data, models) == {A: 201, T: 1, L: 100}
    # 180 from Adaptix, then Trustmary's 130 minus the 32 already listed.
    assert len(listed_people(500, data)) == 278
    assert listing_bound(500, data, models) == {A: 1 + 2 * 180, T: 1, L: 278}


def test_a_page_without_activity_costs_its_lookups_alone() -> None:
    # The cached listing's query: sources only. One Adaptix list call, Trustmary's one
    # page, a Lunar Send search per person listed.
    assert listing_bound(50, seed_dataset(), cost_models(), activity=False) == {A: 1, T: 1, L: 50}
    assert listing_bound(7, small_dataset(), cost_models(), activity=False) == {A: 1, T: 1, L: 7}


def seed_dataset() -> Dataset:
    people = generate(0).people
    lists = {
        p: [normalize_email(x.records[p.value].email) or "" for x in people if p.value in x.records]
        for p in (A, T, L)
    }
    return Dataset(
        listing=[(A, lists[A]), (T, lists[T])],
        emails={p: frozenset(emails) for p, emails in lists.items()},
    )


def test_lookup_needs_a_way_to_read() -> None:
    with pytest.raises(ValueError, match="can neither"):
        CostModel(L, False, None, False, None, 0).lookup_calls(3, pages_left=None)


def test_bulk_bound_is_set_by_the_slowest_provider_at_its_rate() -> None:
    calls = bulk_write_calls(2000, list(Provider))
    assert calls == {
        Provider.AKITA: 2000,
        Provider.INTERAKT: 2000,
        T: 2000,
        A: 10,  # batches of 200
        L: 4000,  # a lookup before each create
    }
    limits = dict.fromkeys(Provider, RateLimit(100, 1.0))
    assert paced_seconds(calls, limits) == 40.0
    assert paced_seconds({A: 10}, {A: RateLimit(2, 1)}) == 5.0


# -- table and JSON ---------------------------------------------------------------------


FIGURES = [
    Figure("fanout.p50", 56.0, "ms", Target("<=", 1.15, "<= 1.15 x 50 ms"), 1.12, note="1 client"),
    Figure("calls.n500.adaptix", 362, "calls", Target("<=", 1.0, "= bound 361"), 362 / 361),
    Figure("bulk.wall", 41.0, "s", Target(">=", 0.9, ">= 90% of bound 40.0 s"), 40 / 41),
    Figure("throughput.w1.rps", 123.4, "req/s"),
]


def test_targets_are_met_or_missed_on_ratio_or_value() -> None:
    assert [f.met for f in FIGURES] == [True, False, True, None]
    assert Target("<=", 2.0, "<= 2 ms", on="value").met(2.5, 1.25) is False


def test_the_table_has_one_row_per_figure_with_value_target_and_ratio() -> None:
    lines = table(FIGURES).splitlines()
    assert lines[0].split() == ["figure", "value", "target", "ratio", "note"]
    assert len(lines) == 2 + len(FIGURES)
    assert "1.12 ok" in lines[2]
    # A miss by 0.3% is not rounded into what looks like the target.
    assert "1.003 MISSED" in lines[3]
    assert "98% ok" in lines[4]
    assert "123 req/s" in lines[5]


def test_a_target_on_the_value_is_marked_without_a_ratio() -> None:
    missed = Figure("bulk.failed_writes", 9, "writes", Target("<=", 0, "0", on="value"))
    met = Figure("bulk.missing_records", 9, "writes", Target("<=", 9, "= failed", on="value"))
    lines = table([missed, met]).splitlines()
    assert lines[2].endswith("MISSED")
    assert lines[3].endswith("ok")


def test_the_markdown_table_is_a_pipe_table() -> None:
    lines = table(FIGURES, markdown=True).splitlines()
    assert lines[0] == "| figure | value | target | ratio | note |"
    assert lines[1] == "|---|---|---|---|---|"
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines[2:])


def test_json_holds_the_same_figures_as_the_table(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    write_json(Report(figures=FIGURES, args={"runs": 3}), path)
    document = json.loads(path.read_text())
    assert document["machine"]["cores"] == os.cpu_count()
    assert [f["met"] for f in document["figures"]] == [True, False, True, None]
    assert table(load_figures(document)) == table(FIGURES)


# -- configuration the gateway is started with --------------------------------------------


def test_gateway_config_is_the_sandbox_settings_as_a_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(gateway_config("http://127.0.0.1:9"))
    assert load_config(path) == gateway_settings("http://127.0.0.1:9", store_url=DEFAULT_STORE)

    path.write_text(
        gateway_config(
            "http://127.0.0.1:9", providers=[A], rate_limit=RateLimit(100, 0.5), concurrency=3
        )
    )
    settings = load_config(path)
    assert settings.providers == {
        A: replace(
            gateway_settings("http://127.0.0.1:9").providers[A],
            rate_limit=RateLimit(100, 0.5),
            concurrency=3,
        )
    }


def test_gateway_config_sets_the_store_the_cache_one_provider_pace_and_limits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(gateway_config("http://127.0.0.1:9", store=False))
    settings = load_config(path)
    assert settings.store.enabled is False
    assert settings.cache.ttl is None
    # `[store] enabled = false` is a store the configuration names: none is added.
    assert with_store(path.read_text(), tmp_path / "gw.db") == path.read_text()

    path.write_text(
        with_store(
            gateway_config("http://127.0.0.1:9", rate_limits={L: RateLimit(2, 1.0)}, cache_ttl=600),
            tmp_path / "gw.db",
        )
    )
    settings = load_config(path)
    assert settings.store.enabled is True
    assert settings.store.url == f"sqlite:///{tmp_path}/gw.db"
    assert settings.cache.ttl == 600
    assert settings.providers[L].rate_limit == RateLimit(2, 1.0)
    assert settings.providers[A].rate_limit == gateway_settings().providers[A].rate_limit

    # The scenarios that measure cost lift the limits that would refuse what they measure.
    path.write_text(gateway_config("http://127.0.0.1:9", limits=scenarios.COST_LIMITS))
    limits = load_config(path).limits
    assert (limits.max_provider_calls, limits.timeout) == (1_000_000, 3600)
    assert limits.max_depth == Limits().max_depth


def test_each_gateway_the_bench_starts_has_a_store_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(with_store(gateway_config("http://127.0.0.1:9"), tmp_path / "gw-1.db"))
    assert load_config(path).store.url == f"sqlite:///{tmp_path}/gw-1.db"
    # A configuration that names its store keeps it.
    named = with_store(gateway_config("http://127.0.0.1:9"), tmp_path / "gw-1.db")
    assert with_store(named, tmp_path / "gw-2.db") == named


# -- the load generator's HTTP ------------------------------------------------------------


async def answer(raw: bytes) -> tuple[int, bool, bytes]:
    reader = asyncio.StreamReader()
    reader.feed_data(raw)
    reader.feed_eof()
    return await read_response(reader)


async def test_reads_a_kept_alive_response_by_its_length() -> None:
    raw = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 ..."
    assert await answer(raw) == (200, True, b"hello")


async def test_reads_a_chunked_response() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"a"\r\n3;x=1\r\n:1}\r\n0\r\n\r\n'
    )
    assert await answer(raw) == (200, True, b'{"a":1}')


async def test_a_close_or_a_body_to_the_end_ends_the_connection() -> None:
    assert await answer(b"HTTP/1.1 503 X\r\nConnection: close\r\nContent-Length: 0\r\n\r\n") == (
        503,
        False,
        b"",
    )
    assert await answer(b"HTTP/1.1 200 OK\r\n\r\nall of it") == (200, False, b"all of it")


def test_requests_carry_host_and_body_length() -> None:
    request = Request("POST", "/graphql", {"Content-Type": "application/json"}, '{"q":"é"}')
    assert encode(request, "127.0.0.1", 8000) == (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n" + '{"q":"é"}'.encode()
    )


def test_load_specs_survive_the_trip_to_the_load_generator_process() -> None:
    spec = LoadSpec(
        port=1,
        units=[[Request("GET", "/a")], [Request("GET", "/b")] * 3, [Request("GET", "/c", port=2)]],
        count=5,
    )
    assert LoadSpec.from_json(spec.to_json()) == spec


@pytest.mark.e2e
async def test_one_client_takes_turns_between_two_servers(tmp_path: Path) -> None:
    async def serve(name: bytes) -> asyncio.Server:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while await reader.readuntil(b"\r\n\r\n"):
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n" + name)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        return await asyncio.start_server(answer, "127.0.0.1", 0)

    first, second = await serve(b"a"), await serve(b"b")
    ports = [server.sockets[0].getsockname()[1] for server in (first, second)]
    try:
        result = await run_load(
            LoadSpec(
                port=ports[0],
                units=[[Request("GET", "/")], [Request("GET", "/", port=ports[1])]],
                count=6,
                keep_bodies=2,
            )
        )
    finally:
        for server in (first, second):
            server.close()
            await server.wait_closed()
    assert result.ok == 6
    assert result.units == [0, 1, 0, 1, 0, 1]
    assert result.bodies == ["a", "b"]


# -- profile stages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "stage"),
    [
        ("/v/site-packages/graphql/language/parser.py", "parsing"),
        ("/v/site-packages/graphql/validation/rules/known_type_names.py", "validation"),
        ("/v/site-packages/graphql/execution/execute.py", "execution"),
        ("/work/main/resolvers/listing.py", "execution"),
        ("/v/site-packages/httpcore/_async/connection_pool.py", "provider I/O"),
        ("/work/main/connectors/adaptix.py", "provider I/O"),
        ("/v/site-packages/strawberry/http/async_base_view.py", "HTTP server"),
        ("/v/site-packages/graphql/language/visitor.py", None),
        ("/usr/lib/python3.11/asyncio/events.py", None),
    ],
)
def test_code_is_put_in_the_stage_of_its_file(filename: str, stage: str | None) -> None:
    assert stage_of_file(filename) == stage


def test_a_profile_of_parsing_and_validating_is_summarised_by_stage(tmp_path: Path) -> None:
    query = "{ contacts(first: 3) { edges { node { id email sources { provider } } } } }"
    graphql_schema = internals.graphql_schema(schema)
    # CPU time, as the bench's own profiler (`bench.profiled`) keeps it: on a busy
    # machine wall time gave a stage what another process took.
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for _ in range(100):
        assert validate(graphql_schema, parse(query)) == []
    profiler.disable()
    path = tmp_path / "out.prof"
    profiler.dump_stats(path)
    shares = summarise_profile(path).shares()
    # The AST visitor that validation drives counts as validation, not as parsing.
    assert shares["validation"] > shares["parsing"] > 0.05
    assert shares["provider I/O"] == 0
    assert sum(shares.values()) == pytest.approx(1.0)


# -- the command ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--runs", "0"], "argument --runs: must be above 0, not 0"),
        (["--bulk-size", "many"], "argument --bulk-size: not a number: 'many'"),
        (["--seconds", "nan"], "argument --seconds: must be above 0, not nan"),
        (["--max-seconds", "0"], "argument --max-seconds: must be above 0, not 0"),
        (["--scenario", "nope"], "argument --scenario: invalid choice: 'nope'"),
        (["--list-sizes", "10,x"], "argument --list-sizes: not a list of page sizes: '10,x'"),
        (["--out", "/no/such/dir/bench.json"], "--out /no/such/dir/bench.json: /no/such/dir is"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert says in lines[-1]
    assert not any(line.startswith("bench: ") for line in lines), "nothing should have started"


def test_a_keep_logs_path_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "logs"
    taken.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["--keep-logs", str(taken)])
    assert exc.value.code == 2
    assert f"--keep-logs {taken}: File exists" in capsys.readouterr().err


@pytest.mark.e2e
def test_a_scenario_that_fails_is_reported_and_its_servers_stopped(tmp_path: Path) -> None:
    said: list[str] = []
    harness = Harness(tmp_path, Options(runs=1), say=said.append)
    started: list[Server] = []

    def broken(h: Harness) -> Outcome:
        sandbox, _ = h.sandbox(seed=None)
        started.append(sandbox)
        return Outcome(figures=[Figure("never", {}["missing"], "ms")])

    report = Report()
    assert run_scenario(harness, "broken", broken, report) == 1

    assert said == ["bench: broken could not measure: KeyError: 'missing'"]
    assert report.details["broken"]["error"] == "KeyError: 'missing'"
    assert "Traceback" in report.details["broken"]["traceback"]
    assert report.figures == []
    assert started[0].process.poll() is not None
    assert harness.servers == []


@pytest.mark.e2e
def test_a_server_that_cannot_start_is_reported_and_gone(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="exited at start"):
        start_server(
            "broken",
            "uvicorn",
            ["bench.nothing_here:app", "--factory", "--port", "0"],
            workdir=tmp_path,
            timeout=20,
        )


@pytest.mark.e2e
def test_closing_the_harness_stops_every_process_it_started(tmp_path: Path) -> None:
    harness = Harness(tmp_path, Options(runs=1), say=lambda text: None)
    sandbox, controls = harness.sandbox(seed=None)
    assert controls.stats("adaptix") == {}
    harness.close()
    assert sandbox.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(sandbox.process.pid, 0)
    assert harness.servers == []


@pytest.mark.e2e
def test_provider_calls_scenario_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    status = main(["--scenario", "calls", "--list-sizes", "10", "--runs", "1", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    document = json.loads(out.read_text())
    bounds = document["details"]["calls"]["bounds"]["10"]
    assert bounds == {"adaptix": 21, "trustmary": 1, "lunarsend": 10}
    for provider, bound in bounds.items():
        figure = next(f for f in document["figures"] if f["name"] == f"calls.n10.{provider}")
        # Fewer calls than the bound would mean the bound is wrong.
        assert figure["value"] >= bound
        assert figure["ratio"] == figure["value"] / bound
        assert f"calls.n10.{provider}" in printed
    assert "= bound 21" in printed


# -- the abuse scenario ------------------------------------------------------------------


def test_the_abusive_requests_are_what_their_names_say() -> None:
    by_name = {a.name: a for a in abuses()}
    graphql_schema = internals.graphql_schema(schema)
    # Valid documents: what refuses them must be the limits, not validation.
    for name, depth in (("nested12", 12 * 4 + 2), ("nested16", 16 * 4 + 2)):
        document = parse(json.loads(by_name[name].body)["query"])
        assert validate(graphql_schema, document) == []
        assert by_name[name].body.count(b"account {") == depth // 4
    assert json.loads(by_name["aliases500"].body)["query"].count("contact(email:") == 500
    assert json.loads(by_name["aliases100k"].body)["query"].count("contact(email:") == 100_000
    assert len(by_name["aliases100k"].body) > 1_000_000
    assert 5_000_000 - 11 < len(json.loads(by_name["query5mb"].body)["query"]) <= 5_000_000
    assert len(by_name["body50mb"].body) == len(by_name["body50mb_chunked"].body) == 50_000_000
    assert json.loads(by_name["body50mb"].body)["query"].rstrip() == "{ __typename }"
    assert [a.chunked for a in by_name.values()].count(True) == 1


def test_a_chunked_body_is_framed_in_chunks_and_ended() -> None:
    body = b"x" * (64 * 1024 + 3)
    framed = b"".join(chunks(body, True))
    assert framed == b"10000\r\n" + b"x" * 65536 + b"\r\n3\r\nxxx\r\n0\r\n\r\n"
    assert b"".join(chunks(body, False)) == body


def test_an_answer_reads_as_its_refusal() -> None:
    assert Answer(200, "OPERATION_LIMIT_EXCEEDED", "max_depth", 0.1, 10).refusal == (
        "200 OPERATION_LIMIT_EXCEEDED (max_depth)"
    )
    assert Answer(413, "-", None, 0.1, 10).refusal == "413"
    assert Answer(0, "ConnectionResetError", None, 0.1, 10).refusal == (
        "no answer (ConnectionResetError)"
    )
    assert Abuse("x", "y", b"{}").chunked is False


@pytest.mark.e2e
def test_abuse_scenario_smoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenarios, "ABUSE_IDLE", 0.5)
    out = tmp_path / "bench.json"
    assert main(["--scenario", "abuse", "--runs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    document = json.loads(out.read_text())
    requests = document["details"]["abuse"]["requests"]
    answers = {name: (r["runs"][0]["status"], r["runs"][0]["code"]) for name, r in requests.items()}
    refused = (200, "OPERATION_LIMIT_EXCEEDED")
    assert answers == {
        "nested12": refused,
        "nested16": refused,
        "aliases500": refused,
        "aliases100k": (413, "-"),
        "query5mb": (413, "-"),
        "body50mb": (413, "-"),
        "body50mb_chunked": (413, "-"),
    }
    figures = {f["name"]: f for f in document["figures"]}
    for name in requests:
        assert figures[f"abuse.{name}.provider_calls"]["value"] == 0
        assert figures[f"abuse.{name}.provider_calls"]["met"] is True
        assert figures[f"abuse.{name}.time"]["value"] > 0
        assert f"abuse.{name}.time" in printed
    rss = document["details"]["abuse"]["rss_mb"]
    assert figures["abuse.rss.idle"]["value"] == pytest.approx(rss["idle"] - rss["before"])
    # The 50 MB body is refused from its Content-Length, long before it is all written.
    assert requests["body50mb"]["runs"][0]["sent_bytes"] < 50_000_000


# -- the store, the record cache, the store's growth --------------------------------------


def test_the_default_run_leaves_out_the_slow_ones_and_ends_with_memory() -> None:
    assert set(scenarios.SCENARIOS) - set(scenarios.DEFAULT) == {
        "hive",
        "instructions",
        "cached",
        "growth",
    }
    # memory reads the peak RSS of every gateway started before it.
    assert scenarios.DEFAULT[-1] == "memory"


@pytest.mark.e2e
def test_store_scenario_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert main(["--scenario", "store", "--runs", "1", "--seconds", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    document = json.loads(out.read_text())
    details = document["details"]["store"]
    [run] = details["runs"]
    figures = {f["name"]: f for f in document["figures"]}
    assert figures["store.added_p50"]["value"] == pytest.approx(run["with"] - run["without"])
    assert figures["store.added_p50"]["target"]["limit"] == 0.5
    assert figures["store.first_sighting_p50"]["value"] == run["first_sighting"] > 0
    # Each of the 16 people seen once for the first time; both gateways timed alike.
    assert [len(first) for first in details["first_sightings_ms"]] == [details["people"]] == [16]
    assert details["requests_per_side"] == 100
    for name in ("with_p50", "without_p50", "added_p50", "first_sighting_p50"):
        assert f"store.{name}" in printed


@pytest.mark.e2e
def test_cached_scenario_smoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 6 people: the cold listing paces 6 Lunar Send searches at 2/s; the later listing
    # waits 1 s instead of the store's memory.
    monkeypatch.setattr(scenarios, "CACHED_PAGE", 6)
    monkeypatch.setattr(scenarios, "STORE_MEMORY_S", 0.0)
    out = tmp_path / "bench.json"
    assert main(["--scenario", "cached", "--runs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    document = json.loads(out.read_text())
    details = document["details"]["cached"]
    assert details["bound_calls"] == {"adaptix": 1, "trustmary": 1, "lunarsend": 6}
    [run] = details["runs"]
    assert run["cold.lunarsend"] >= 6
    assert run["warm.lunarsend"] == run["later.lunarsend"] == 0
    assert run["later.adaptix"] == 1  # the listing itself is never cached
    assert run["warm.ms"] < run["cold.ms"]
    # Six searches at 2/s: the fifth second has begun before the last is sent.
    assert run["cold.ms"] >= 2500
    figures = {f["name"]: f for f in document["figures"]}
    assert figures["cached.warm.lunarsend"]["met"] is True
    assert figures["cached.cold.wall"]["ratio"] == pytest.approx(
        details["bound_s"] / (run["cold.ms"] / 1000)
    )
    assert "= bound 6" in printed


def test_growth_people_are_distinct_in_the_seeds_mix() -> None:
    people = growth_people(640)
    emails = {r.email for p in people for r in p.records}
    assert len(emails) == 640
    assert all(len({r.email for r in p.records}) == 1 for p in people)
    # The seed's 320 people, twice: 1.2 readable records a person.
    assert sum(len(p.records) for p in people) == 2 * 384
    assert {len(p.records) for p in people} == {1, 2, 3}
    assert sum(p.written is not None for p in people) == 640 // 5
    links = {(r.provider, r.remote_id) for p in people for r in p.records}
    assert len(links) == 2 * 384


def test_growth_scenario_smoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenarios, "GROWTH_PEOPLE", 200)
    out = tmp_path / "bench.json"
    assert main(["--scenario", "growth", "--runs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    document = json.loads(out.read_text())
    details = document["details"]["growth"]
    people = growth_people(200)
    records = sum(len(p.records) for p in people)
    assert details["rows"]["persons"] == 200
    # Every record linked, and Akita's and Interakt's records for those written.
    assert details["rows"]["links"] == records + 2 * details["written"] == records + 80
    figures = {f["name"]: f for f in document["figures"]}
    assert figures["growth.bytes_per_person"]["value"] == details["file_bytes"] / 200
    assert figures["growth.identify_batch"]["value"] > 0
    assert "growth.bytes_per_person" in printed


# -- the bulk job and the write journal --------------------------------------------------


def test_bulk_scenario_smoke_writes_every_input_through_a_job(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert main(["--scenario", "bulk", "--bulk-size", "30", "--runs", "1", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    [run] = document["details"]["bulk"]["runs"]
    figures = {f["name"]: f for f in document["figures"]}
    assert run["failed"] == run["missing"] == run["queued"] == 0
    assert figures["bulk.wall"]["value"] == run["wall_s"] > 0
    assert figures["bulk.wall"]["ratio"] == pytest.approx(
        document["details"]["bulk"]["bound_s"] / run["wall_s"]
    )


def test_journal_scenario_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert main(["--scenario", "journal", "--runs", "1", "--seconds", "1", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    [run] = document["details"]["journal"]["runs"]
    figures = {f["name"]: f for f in document["figures"]}
    assert figures["journal.added_p50"]["value"] == pytest.approx(run["with"] - run["without"])
    assert figures["journal.own_p50"]["target"]["limit"] == 1.0
    assert figures["journal.own_p50"]["value"] == pytest.approx(run["begin"] + run["record"])
    assert run["with"] > 0
    assert run["without"] > 0


def test_telemetry_scenario_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert (
        main(["--scenario", "telemetry", "--runs", "1", "--seconds", "1", "--out", str(out)]) == 0
    )
    document = json.loads(out.read_text())
    [run] = document["details"]["telemetry"]["runs"]
    figures = {f["name"]: f for f in document["figures"]}
    assert figures["telemetry.added_p50"]["value"] == pytest.approx(run["traces"] + run["metrics"])
    assert figures["telemetry.added_p50"]["target"]["limit"] == 0.3
    assert run["on"] > 0
    assert run["off"] > 0
    assert 0 < run["metrics"] < 1


# -- side by side with Hive Gateway --------------------------------------------------------


def test_the_side_by_side_chart_is_a_png_with_both_gateways(tmp_path: Path) -> None:
    from bench import chart

    medians = {
        "contact-gateway": {"rps": 480.0, "p50": 60.0, "p99": 110.0, "cpu_ms": 1.7},
        "hive": {"rps": 380.0, "p50": 72.0, "p99": 500.0, "cpu_ms": 2.7},
    }
    path = tmp_path / "hive.png"
    chart.side_by_side(medians, {"contact-gateway": 54.0, "hive": 53.0}, path, latency_ms=50)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 1000
    assert height > 300


def test_a_peer_s_cpu_is_read_over_its_whole_process_tree(tmp_path: Path) -> None:
    """Hive runs as a shell, node and forked workers: each one's CPU counts."""
    import subprocess
    import sys
    import time

    from bench import hive
    from bench.servers import Server, cpu_seconds

    busy = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    process = subprocess.Popen(
        ["bash", "-c", f"{sys.executable} -c '{busy}' & wait"], start_new_session=True
    )
    server = Server("tree", process, tmp_path / "tree.log")
    try:
        deadline = time.monotonic() + 10
        while hive.tree_cpu_seconds(server) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hive.tree_cpu_seconds(server) >= 0.25
        assert cpu_seconds(process.pid) < 0.1  # the shell itself did next to nothing
        assert len(hive.tree(process.pid)) == 2
    finally:
        server.stop(grace=0.1)


def test_the_count_is_read_from_callgrind_at_the_servers_end(tmp_path: Path) -> None:
    # A stand-in for the counted server: it prints what valgrind prints as it exits.
    from bench import instructions

    log = tmp_path / "counted.log"
    program = (
        "import signal, sys, time\n"
        "def end(*_):\n"
        "    print('==1== Collected : 123456789', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGINT, end)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", program],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 10
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    server = Server("counted", process, log)

    assert instructions.collected(server) == 123_456_789
    assert process.poll() is not None
