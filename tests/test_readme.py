"""The README's examples work when pasted."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.app import Sandbox
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute
from tests.support import serve_in_thread

README = (Path(__file__).parent.parent / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize(
    "document",
    blocks("graphql"),
    ids=["query", "upsert", "preview", "update", "write-operation", "bulk-job"],
)
async def test_graphql_examples_run_against_the_sandbox(
    document: str, make_gateway: GatewayFactory
) -> None:
    if "01936a6e-..." in document:  # a mutation's operationId goes there
        gateway = make_gateway()
        written = await execute(
            gateway,
            'mutation { upsertContact(input: {email: "readme@example.com"}, '
            "providers: [ADAPTIX]) { operationId } }",
        )
        operation_id = written.data["upsertContact"]["operationId"]
        result = await execute(gateway, document.replace("01936a6e-...", operation_id))
        assert result.errors == []
        found = result.data["writeOperation"]
        assert found["status"] == "DONE"
        assert [(leg["provider"], leg["status"]) for leg in found["legs"]] == [
            ("ADAPTIX", "CREATED")
        ]
        return
    if "CONTACT-ID" in document:  # a Contact.id goes there
        gateway = make_gateway()
        found = await execute(gateway, '{ contact(email: "ada.lovelace.0@stark.test") { id } }')
        result = await execute(gateway, document.replace("CONTACT-ID", found.data["contact"]["id"]))
        assert result.errors == []
        update = result.data["updateContact"]
        assert update["contact"]["email"] == "ada@analytical.test"
        rows = {r["provider"]: r for r in update["results"]}
        assert rows["TRUSTMARY"]["droppedFields"] == ["email", "jobTitle", "address"]
        assert rows["LUNARSEND"]["droppedFields"] == ["company", "jobTitle", "address"]
        assert rows["ADAPTIX"]["droppedFields"] == []
        return
    result = await execute(make_gateway(), document)
    assert result.errors == []
    if "previewUpsert" in result.data:
        statuses = {r["provider"]: r["status"] for r in result.data["previewUpsert"]["results"]}
        assert statuses["ADAPTIX"] == "UPDATED"
        assert statuses["AKITA"] == "SKIPPED"
    elif "startBulkUpsert" in result.data:
        job = result.data["startBulkUpsert"]
        assert (job["status"], job["total"], job["pending"]) == ("PENDING", 4, 4)
    elif "contact" in result.data:
        assert len(result.data["contact"]["sources"]) == 3
        # As the text after the query says: Ada's records disagree on phone and company.
        assert [c["field"] for c in result.data["contact"]["conflicts"]] == ["phones", "company"]
    else:
        statuses = {r["provider"]: r["status"] for r in result.data["upsertContact"]["results"]}
        assert set(statuses.values()) <= {"CREATED", "UPDATED"}
        assert len(statuses) == 5


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_each_sandbox_curl_works_when_pasted(sandbox: Sandbox) -> None:
    commands = [
        line for block in blocks("sh") for line in block.splitlines() if line.startswith("curl ")
    ]
    assert len(commands) == 5
    with serve_in_thread(sandbox.app) as base:
        port = base.rsplit(":", 1)[1]
        for command in commands:
            args = [a.replace("127.0.0.1:8100", f"127.0.0.1:{port}") for a in shlex.split(command)]
            out = subprocess.run(
                [*args, "-w", "\n%{http_code}"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
            body, _, status = out.stdout.rpartition("\n")
            assert status in {"200", "201"}, (command, body)
            if "/interakt/" in command:
                assert body == "{}"  # Interakt's whole answer, stored or not
            else:
                assert body.strip() not in ("", '{"data":[]}', '{"contacts":[]}'), command
    assert [r["email"] for r in sandbox.emulators["interakt"].records()] == ["lead@example.com"]
    assert [r["internal_id"] for r in sandbox.emulators["akita"].records()] == ["abc"]
