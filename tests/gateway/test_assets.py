"""Fetching GraphiQL's assets, against a stand-in npm registry (no network in tests)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import httpx
import pytest

from gateway import assets, graphiql
from gateway.assets import AssetError, Package

REGISTRY = "https://registry.test"


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


BUNDLE = tarball(
    {
        "package/graphiql.min.js": b"window.GraphiQL = {};",
        "package/graphiql.min.css": b".graphiql-container {}",
        "package/README.md": b"not extracted",
    }
)
PACKAGE = Package(
    "graphiql",
    "3.8.3",
    integrity(BUNDLE),
    {"package/graphiql.min.js": "graphiql.min.js", "package/graphiql.min.css": "graphiql.min.css"},
)


def registry(tarballs: dict[str, bytes], calls: list[str]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        name, _, version = request.url.path.strip("/").partition("/")
        if name in tarballs and version == "3.8.3":
            return httpx.Response(
                200,
                json={
                    "dist": {
                        "integrity": PACKAGE.integrity,
                        "tarball": f"{REGISTRY}/{name}/-/{name}-3.8.3.tgz",
                    }
                },
            )
        if "/-/" in request.url.path:
            return httpx.Response(200, content=tarballs[name])
        return httpx.Response(404, json={"error": "not found"})

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_fetch_extracts_only_the_bundles_and_is_idempotent(tmp_path: Path) -> None:
    calls: list[str] = []
    with registry({"graphiql": BUNDLE}, calls) as client:
        wrote = assets.fetch(
            tmp_path, packages=[PACKAGE], use_npm=False, client=client, registry=REGISTRY
        )
        again = assets.fetch(
            tmp_path, packages=[PACKAGE], use_npm=False, client=client, registry=REGISTRY
        )

    vendor = assets.vendor_dir(tmp_path)
    assert wrote is True
    assert again is False
    assert calls == ["/graphiql/3.8.3", "/graphiql/-/graphiql-3.8.3.tgz"]
    assert (vendor / "graphiql.min.js").read_bytes() == b"window.GraphiQL = {};"
    assert sorted(p.name for p in vendor.iterdir()) == [
        "graphiql.min.css",
        "graphiql.min.js",
        "manifest.json",
    ]


def test_a_tampered_tarball_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    tampered = tarball({"package/graphiql.min.js": b"evil()", "package/graphiql.min.css": b""})
    with (
        registry({"graphiql": tampered}, []) as client,
        pytest.raises(AssetError, match="does not match the pinned integrity"),
    ):
        assets.fetch(tmp_path, packages=[PACKAGE], use_npm=False, client=client, registry=REGISTRY)

    assert not assets.vendor_dir(tmp_path).exists()


def test_a_tarball_without_the_bundle_is_refused(tmp_path: Path) -> None:
    bare = tarball({"package/index.js": b""})
    package = Package("graphiql", "3.8.3", integrity(bare), PACKAGE.files)

    with pytest.raises(AssetError, match=r"has no package/graphiql\.min"):
        assets.extract(package, bare)


def test_check_exits_non_zero_until_the_files_are_there(
    tmp_path: Path, fake_static: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert assets.main(["check", "--dir", str(tmp_path / "empty")]) == 1
    assert "python -m gateway.assets fetch" in capsys.readouterr().err
    assert assets.main(["check", "--dir", str(fake_static)]) == 0


def test_the_pinned_packages_provide_every_file_the_page_loads(fake_static: Path) -> None:
    page = graphiql.render(fake_static)

    for name in assets.FILES:
        assert f'"/static/vendor/{name}"' in page
    assert {p.name: p.version for p in assets.PACKAGES} == {
        "graphiql": "3.8.3",
        "react": "18.3.1",
        "react-dom": "18.3.1",
    }
    assert all(p.integrity.startswith("sha512-") for p in assets.PACKAGES)


def test_a_refused_download_names_the_status_but_not_the_registry_token(tmp_path: Path) -> None:
    private = "https://gateway:npm-token-5150@registry.test"
    with (
        registry({}, []) as client,
        pytest.raises(AssetError) as caught,
    ):
        assets.fetch(tmp_path, packages=[PACKAGE], use_npm=False, client=client, registry=private)

    assert str(caught.value) == "graphiql@3.8.3: cannot download (the registry answered 404)"
    assert not assets.vendor_dir(tmp_path).exists()
