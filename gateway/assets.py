"""GraphiQL's browser assets, served by the gateway itself.

The GraphiQL page loads React, ReactDOM and GraphiQL from the gateway
(`/static/vendor/...`), never from another host. The files come from the npm
registry and are not committed (`gateway/static/vendor/` is git-ignored):

    python -m gateway.assets fetch     # download once (scripts/install does it)
    python -m gateway.assets check     # exit 1 when a file is missing

`fetch` uses `npm pack` when npm is installed, else reads the registry over
HTTPS; either way each tarball's sha512 must match the one pinned here, and
only the four bundles below are extracted.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

STATIC_DIR = Path(__file__).parent / "static"
VENDOR = "vendor"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
FETCH_HINT = "python -m gateway.assets fetch"
NPM_TIMEOUT = 300


class AssetError(Exception):
    """The assets could not be fetched; the message says why."""


@dataclass(frozen=True, slots=True)
class Package:
    """One npm package and the files taken from its tarball.

    Args:
        name: the npm package name.
        version: the exact version.
        integrity: the tarball's Subresource Integrity string (`sha512-...`).
        files: path inside the tarball -> file name under `static/vendor/`.
    """

    name: str
    version: str
    integrity: str
    files: Mapping[str, str]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES: tuple[Package, ...] = (
    Package(
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        {"package/umd/react.production.min.js": "react.production.min.js"},
    ),
    Package(
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        {"package/umd/react-dom.production.min.js": "react-dom.production.min.js"},
    ),
    Package(
        "graphiql",
        "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        {
            "package/graphiql.min.js": "graphiql.min.js",
            "package/graphiql.min.css": "graphiql.min.css",
        },
    ),
)

# The order the page loads them in: React before ReactDOM before GraphiQL.
FILES: tuple[str, ...] = tuple(name for p in PACKAGES for name in p.files.values())
MANIFEST = "manifest.json"


def vendor_dir(static_dir: Path = STATIC_DIR) -> Path:
    """Where the vendor files live under a static directory (served as `/static/vendor/`)."""
    return static_dir / VENDOR


def missing(static_dir: Path = STATIC_DIR, packages: Sequence[Package] = PACKAGES) -> list[str]:
    """The vendor files that are absent or empty.

    Args:
        static_dir: the static directory to look in.
        packages: the packages whose files are expected.

    Returns:
        The missing file names, in page load order; empty when all are there.
    """
    folder = vendor_dir(static_dir)
    return [
        name
        for p in packages
        for name in p.files.values()
        if not (folder / name).is_file() or (folder / name).stat().st_size == 0
    ]


def _manifest(packages: Sequence[Package]) -> dict[str, str]:
    return {p.name: p.version for p in packages}


def is_current(static_dir: Path = STATIC_DIR, packages: Sequence[Package] = PACKAGES) -> bool:
    """Every file is present and was extracted from the pinned versions."""
    if missing(static_dir, packages):
        return False
    try:
        recorded = json.loads((vendor_dir(static_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded == _manifest(packages))


def check_integrity(package: Package, tarball: bytes) -> None:
    """Check a downloaded tarball against the package's pinned integrity.

    Args:
        package: the package, with its `sha512-...` integrity string.
        tarball: the downloaded bytes.

    Raises:
        AssetError: the digest differs.
    """
    algorithm, _, expected = package.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if digest != expected:
        raise AssetError(
            f"{package.spec}: the tarball's {algorithm} does not match the pinned integrity"
        )


def extract(package: Package, tarball: bytes) -> dict[str, bytes]:
    """Read the package's bundles out of its tarball (nothing is written to disk).

    Args:
        package: which members to take and what to name them.
        tarball: the gzipped tarball.

    Returns:
        File contents by vendor file name.

    Raises:
        AssetError: a member is missing or is not a regular file.
    """
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member_name, target in package.files.items():
            try:
                member = archive.getmember(member_name)
            except KeyError:
                raise AssetError(f"{package.spec}: the tarball has no {member_name}") from None
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is None:
                raise AssetError(f"{package.spec}: {member_name} is not a regular file")
            out[target] = handle.read()
    return out


def _npm_pack(package: Package, npm: str, workdir: Path) -> bytes:
    try:
        result = subprocess.run(
            [npm, "pack", package.spec, "--json", "--silent"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssetError(f"npm pack {package.spec} did not finish in {NPM_TIMEOUT} s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise AssetError(f"npm pack {package.spec} failed: {last}")
    try:
        filename = str(json.loads(result.stdout)[0]["filename"])
    except (ValueError, LookupError, TypeError):
        raise AssetError(f"npm pack {package.spec}: unexpected output") from None
    return (workdir / filename).read_bytes()


def _registry_fetch(package: Package, client: httpx.Client, registry: str) -> bytes:
    meta_url = f"{registry.rstrip('/')}/{package.name}/{package.version}"
    try:
        meta = client.get(meta_url)
        meta.raise_for_status()
        dist = meta.json()["dist"]
        if dist.get("integrity") != package.integrity:
            raise AssetError(
                f"{package.spec}: the registry's integrity differs from the pinned one"
            )
        response = client.get(dist["tarball"])
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        # Not the URL: a private registry's may carry a token.
        status = exc.response.status_code
        raise AssetError(
            f"{package.spec}: cannot download (the registry answered {status})"
        ) from None
    except httpx.HTTPError as exc:
        raise AssetError(f"{package.spec}: cannot download ({exc or type(exc).__name__})") from None
    except (ValueError, LookupError, TypeError):
        raise AssetError(f"{package.spec}: unexpected registry metadata") from None
    return response.content


def fetch(
    static_dir: Path = STATIC_DIR,
    *,
    packages: Sequence[Package] = PACKAGES,
    use_npm: bool | None = None,
    client: httpx.Client | None = None,
    registry: str | None = None,
    force: bool = False,
) -> bool:
    """Download the packages and extract their bundles into `static_dir/vendor/`.

    Args:
        static_dir: the gateway's static directory.
        packages: what to fetch (the pinned GraphiQL, React and ReactDOM).
        use_npm: use `npm pack`; by default when npm is on PATH.
        client: the httpx client for the registry when npm is not used.
        registry: the npm registry URL; default `$NPM_CONFIG_REGISTRY` or npmjs.org.
        force: fetch even when the files are already there.

    Returns:
        True when files were written, False when they were already current.

    Raises:
        AssetError: a download failed, a tarball did not match its pinned
            integrity, or a bundle was missing from it. Nothing is written then.
    """
    if not force and is_current(static_dir, packages):
        return False
    npm = shutil.which("npm") if use_npm is not False else None
    if use_npm and npm is None:
        raise AssetError("npm is not on PATH")
    registry = registry or os.environ.get("NPM_CONFIG_REGISTRY") or DEFAULT_REGISTRY
    contents: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="gateway-assets-") as tmp:
        own_client = client is None and npm is None
        http = httpx.Client(timeout=60, follow_redirects=True) if own_client else client
        try:
            for package in packages:
                if npm is not None:
                    tarball = _npm_pack(package, npm, Path(tmp))
                else:
                    assert http is not None
                    tarball = _registry_fetch(package, http, registry)
                check_integrity(package, tarball)
                contents.update(extract(package, tarball))
        finally:
            if own_client and http is not None:
                http.close()
    folder = vendor_dir(static_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        partial = folder / f".{name}.partial"
        partial.write_bytes(data)
        partial.replace(folder / name)
    (folder / MANIFEST).write_text(json.dumps(_manifest(packages), indent=2) + "\n")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m gateway.assets fetch|check [--dir DIR] [--force]`."""
    parser = argparse.ArgumentParser(
        prog="python -m gateway.assets", description="GraphiQL's assets for the gateway."
    )
    parser.add_argument("command", choices=("fetch", "check"))
    parser.add_argument(
        "--dir", type=Path, default=STATIC_DIR, help="the static directory (default: the package's)"
    )
    parser.add_argument("--force", action="store_true", help="fetch even when present")
    args = parser.parse_args(argv)
    folder = vendor_dir(args.dir)
    if args.command == "check":
        absent = missing(args.dir)
        if absent:
            print(
                f"GraphiQL assets missing in {folder}: {', '.join(absent)}; run: {FETCH_HINT}",
                file=sys.stderr,
            )
            return 1
        print(f"GraphiQL assets present in {folder}")
        return 0
    try:
        wrote = fetch(args.dir, force=args.force)
    except AssetError as exc:
        print(f"GraphiQL assets not fetched: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"GraphiQL assets not written to {folder}: {exc.strerror}", file=sys.stderr)
        return 1
    names = ", ".join(FILES)
    print(f"{'fetched' if wrote else 'already present'}: {names} in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
