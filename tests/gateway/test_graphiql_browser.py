"""GraphiQL in a real browser: Debian's Chromium, driven by Playwright, against the
gateway on 127.0.0.1. It runs a federated query, shows the result, opens the docs,
works with [auth] (the key typed into the headers editor), logs no console error
and asks no host but the gateway."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.config import read_document
from sandbox.app import Sandbox
from sandbox.config import sandbox_document
from tests.gateway.conftest import serve_gateway
from tests.support import SANDBOX_URL, fresh_store_url

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)",
    ),
]
# As the machine's browser probe starts it: no sandbox as root, and no background
# connections to Google's hosts (refused here, and none of the page's business).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUERY = '{ contact(email: "ada.lovelace.0@stark.test") { email sources { provider } } }'
KEY = "graphiql-browser-key-0123456789"


@dataclass
class Seen:
    """What the page did besides what the test asked of it."""

    console_errors: list[str] = field(default_factory=list)
    foreign_hosts: set[str] = field(default_factory=set)


@contextmanager
def browser_on(url: str) -> Iterator[tuple[Any, Seen]]:
    from playwright.sync_api import sync_playwright

    seen = Seen()
    own = urlsplit(url).netloc
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: (
                    seen.console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: seen.console_errors.append(str(error)))

            def screen(route: Any) -> None:
                host = urlsplit(route.request.url).netloc
                if host == own:
                    route.continue_()
                else:
                    seen.foreign_hosts.add(host)
                    route.abort()

            page.route("**/*", screen)
            page.goto(f"{url}/graphql")
            page.wait_for_selector(".graphiql-container", timeout=20_000)
            yield page, seen
        finally:
            browser.close()


def set_editor(page: Any, selector: str, index: int, text: str) -> None:
    page.evaluate(
        "([selector, index, text]) => "
        "document.querySelectorAll(selector)[index].CodeMirror.setValue(text)",
        [selector, index, text],
    )


def run_query(page: Any) -> str:
    set_editor(page, ".graphiql-query-editor .CodeMirror", 0, QUERY)
    page.click('button[aria-label="Execute query (Ctrl-Enter)"]')
    page.wait_for_function(
        "() => document.querySelector('.graphiql-response').innerText.includes('\"data\"')"
        " || document.querySelector('.graphiql-response').innerText.includes('\"errors\"')",
        timeout=20_000,
    )
    text: str = page.inner_text(".graphiql-response")
    return text


def test_graphiql_runs_a_federated_query_and_shows_the_docs(sandbox: Sandbox) -> None:
    with serve_gateway(sandbox) as url, browser_on(url) as (page, seen):
        result = run_query(page)
        page.click('button[aria-label="Show Documentation Explorer"]')
        page.wait_for_selector(".graphiql-doc-explorer", timeout=10_000)
        docs = page.inner_text(".graphiql-doc-explorer")

    assert "ada.lovelace.0@stark.test" in result
    for provider in ("ADAPTIX", "TRUSTMARY", "LUNARSEND"):
        assert provider in result
    assert "Query" in docs
    assert seen.console_errors == []
    assert seen.foreign_hosts == set()


def test_graphiql_with_auth_sends_the_key_typed_in_the_headers_editor(sandbox: Sandbox) -> None:
    document = sandbox_document(SANDBOX_URL)
    document["store"] = {"url": fresh_store_url()}
    document["auth"] = {"keys": [{"name": "browser", "key": KEY, "scopes": ["read"]}]}
    settings = read_document(document, source="test")
    with serve_gateway(sandbox, settings) as url, browser_on(url) as (page, seen):
        refused = run_query(page)
        page.click(".graphiql-editor-tools button:has-text('Headers')")
        set_editor(
            page, ".graphiql-editor-tool .CodeMirror", 1, f'{{"Authorization": "Bearer {KEY}"}}'
        )
        answered = run_query(page)

    assert "UNAUTHENTICATED" in refused
    assert "ada.lovelace.0@stark.test" in answered
    # The refused query's 401 is the only thing the browser reported.
    assert all("401" in error for error in seen.console_errors), seen.console_errors
    assert seen.foreign_hosts == set()
