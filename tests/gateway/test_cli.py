from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.app import ENV_CONFIG
from gateway.cli import main, schema_sdl
from tests.gateway.conftest import REPO
from tests.support import free_port

BAD_CONFIG = """
[providers.adaptix]
base_url = "https://acme.adaptix.ai/api"
username = "gateway"
password = "${ADAPTIX_PASSWORD_FOR_CLI_TEST}"
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_GATEWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_with_a_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(BAD_CONFIG)

    result = cli("serve", "--config", str(config), "--port", "0")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{config}: providers.adaptix.password: "
        "environment variable ADAPTIX_PASSWORD_FOR_CLI_TEST is not set"
    ]
    assert "Traceback" not in result.stderr


def test_serve_says_when_the_sandbox_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(free_port()), "--sandbox-port", str(port))

    assert result.returncode == 1
    assert f"cannot start the sandbox on 127.0.0.1:{port}" in result.stderr
    assert "--sandbox-port 0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "gateway.toml: file not found"),
        ("[providers.akita\n", "gateway.toml: line 1, column 17: invalid TOML"),
        ('[providers.akita]\nbase_url = "https://x/v1"\n', "providers.akita.api_key: is required"),
    ],
)
def test_serve_reports_the_config_error_named_by_the_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str | None,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_CONFIG, "gateway.toml")
    if text is not None:
        (tmp_path / "gateway.toml").write_text(text)

    status = main(["serve"])

    err = capsys.readouterr().err
    assert status == 2
    assert len(err.splitlines()) == 1
    assert expected in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["serve", "--port", "70000"], "argument --port: must be at most 65535, not 70000"),
        (["serve", "--sandbox-port", "-1"], "argument --sandbox-port: must be at least 0, not -1"),
        (["serve", "--workers", "0"], "argument --workers: must be at least 1, not 0"),
        (["sandbox", "--port", "http"], "argument --port: not a whole number: 'http'"),
    ],
)
def test_a_bad_flag_is_refused_with_a_usage_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)

    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].endswith(says)
    assert "Traceback" not in err


def test_export_schema_says_when_the_file_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no-such-dir" / "schema.graphql"

    assert main(["export-schema", "--out", str(out)]) == 1
    assert main(["export-schema", "--out", str(tmp_path), "--check"]) == 1

    assert capsys.readouterr().err.splitlines() == [
        f"{out} cannot be written (No such file or directory)",
        f"{tmp_path} cannot be read (Is a directory)",
    ]


def test_export_schema_writes_the_sdl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema.graphql"

    assert main(["export-schema", "--out", str(out)]) == 0

    assert out.read_text() == schema_sdl()
    assert main(["export-schema", "--out", str(out), "--check"]) == 0


def test_export_schema_check_fails_when_the_file_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schema.graphql"
    out.write_text(schema_sdl().replace("firstName: String", "givenName: String", 1))

    assert main(["export-schema", "--out", str(out), "--check"]) == 1

    err = capsys.readouterr().err
    assert f"{out} differs from the code's schema: run `contact-gateway export-schema`" in err
    assert "-  givenName: String" in err
    assert "+  firstName: String" in err


def test_export_schema_check_fails_when_the_file_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export-schema", "--out", str(tmp_path / "nope.graphql"), "--check"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_the_repository_schema_passes_the_check() -> None:
    result = cli("export-schema", "--check")

    assert result.returncode == 0, result.stderr
    assert "schema.graphql matches the code's schema" in result.stdout


def test_bench_subcommand_is_the_benchmark_command(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["bench", "--help"])
    assert stopped.value.code == 0
    assert "--scenario" in capsys.readouterr().out
