"""The GraphiQL page: our own template, every asset served by the gateway.

Strawberry's built-in page loads React and GraphiQL from unpkg.com; this one
loads them from `/static/vendor/` (see `gateway.assets`), so the page works
offline and no other host sees who uses the gateway. When the files have not
been fetched, the page says how to get them instead.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from gateway import assets

DEFAULT_QUERY = """\
# contact-gateway: one contact per person, federated across every provider.
# Each field takes the value of the first provider (in the configured
# precedence) that has one; `sources` shows every provider record.
# Run with Ctrl-Enter.

{
  contacts(first: 5) {
    edges {
      node {
        id
        email
        firstName
        lastName
        company
        sources {
          provider
          remoteId
        }
      }
    }
  }
}
"""

# JSON inside <script>: "</" must not close the element early.
_QUERY_JSON = json.dumps(DEFAULT_QUERY).replace("</", "<\\/")

_PAGE = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>contact-gateway GraphiQL</title>
    <link rel="icon" href="data:,">
    <style>
      body { margin: 0; height: 100%; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
    {assets}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL...</div>
    <script>
      const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
      const root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultQuery: {default_query},
          defaultEditorToolsVisibility: true,
          isHeadersEditorEnabled: true,
        }),
      );
    </script>
  </body>
</html>
"""

_MISSING = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>contact-gateway: GraphiQL is not installed</title>
    <link rel="icon" href="data:,">
    <style>
      body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto;
             padding: 0 1rem; line-height: 1.5; }
      pre { background: #f4f4f4; padding: 0.75rem 1rem; }
    </style>
  </head>
  <body>
    <h1>GraphiQL is not installed</h1>
    <p>The gateway serves GraphiQL's files itself and they have not been fetched yet
      (missing: {missing}). Fetch them from the npm registry with:</p>
    <pre>{fetch_hint}</pre>
    <p>or run <code>scripts/install</code>, then reload this page.</p>
    <p>The GraphQL endpoint works without them: POST a JSON body
      <code>{"query": "{ contacts(first: 5) { edges { node { email } } } }"}</code>
      to this URL.</p>
  </body>
</html>
"""


def render(static_dir: Path, *, root_path: str = "") -> str:
    """The GraphiQL page, or instructions when its assets are missing.

    Args:
        static_dir: the directory served under `/static`.
        root_path: the ASGI root path the gateway is mounted under.

    Returns:
        HTML whose every asset URL is a path on the gateway.
    """
    absent = assets.missing(static_dir)
    if absent:
        return _MISSING.replace("{missing}", html.escape(", ".join(absent))).replace(
            "{fetch_hint}", html.escape(assets.FETCH_HINT)
        )
    prefix = html.escape(f"{root_path.rstrip('/')}/static/{assets.VENDOR}/")
    tags = "\n    ".join(
        f'<link rel="stylesheet" href="{prefix}{name}">'
        if name.endswith(".css")
        else f'<script src="{prefix}{name}"></script>'
        for name in assets.FILES
    )
    return _PAGE.replace("{assets}", tags).replace("{default_query}", _QUERY_JSON)
