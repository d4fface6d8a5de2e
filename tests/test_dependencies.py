"""requirements.lock is current: it pins every dependency pyproject.toml names, at a
version inside its range, and that version is what is installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
REQUIREMENTS = [
    Requirement(text)
    for text in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["dev"]]
]
LOCKED = {
    canonicalize_name(name): version
    for name, version in re.findall(
        r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", (REPO / "requirements.lock").read_text(), re.M
    )
}


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=lambda r: r.name)
def test_each_dependency_is_locked_inside_its_range_and_installed(
    requirement: Requirement,
) -> None:
    name = canonicalize_name(requirement.name)
    assert name in LOCKED, f"{name} is not in requirements.lock: run scripts/lock"
    assert requirement.specifier.contains(LOCKED[name], prereleases=True), (
        f"requirements.lock pins {name}=={LOCKED[name]}, outside {requirement.specifier}: "
        "run scripts/lock"
    )
    assert metadata.version(name) == LOCKED[name], f"run scripts/install ({name})"


# A CA bundle is safest when newest: the one range left open.
OPEN_ENDED = {"certifi"}


@pytest.mark.parametrize(
    "requirement",
    [r for r in REQUIREMENTS if canonicalize_name(r.name) not in OPEN_ENDED],
    ids=lambda r: r.name,
)
def test_runtime_and_tool_ranges_have_an_upper_bound(requirement: Requirement) -> None:
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier)
