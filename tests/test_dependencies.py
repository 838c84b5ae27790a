"""requirements.lock pins every runtime package, the whole closure of requirements.txt and nothing else,
at the versions installed; ``flask sbom`` lists each of them."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from consult.sbom import LOCK
from consult.sbom import canonical
from consult.sbom import locked

ROOT = Path(__file__).resolve().parent.parent


def direct_requirements() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in (line.split("#")[0].strip() for line in lines) if line]


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, on this interpreter (markers and extras applied)."""
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in requirements]
    while todo:
        requirement, extras = todo.pop()
        name = canonical(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(requirement.name) or []:
            needed = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(env) for env in environments):
                todo.append((needed, frozenset(needed.extras)))
    return seen


def test_every_direct_requirement_is_pinned_as_the_lock_pins_it():
    pins = locked()
    for requirement in direct_requirements():
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", requirement
        assert pins[canonical(requirement.name)] == specifier.version, requirement


def test_the_lock_is_the_whole_closure_of_requirements_txt_as_installed():
    pins = locked()
    needed = closure(direct_requirements())
    assert sorted(needed - pins.keys()) == [], "pulled in but not locked: add them to requirements.lock"
    assert sorted(pins.keys() - needed) == [], "locked but not needed: remove them from requirements.lock"
    installed = {name: metadata.version(name) for name in needed}
    assert installed == pins


def test_the_sbom_lists_each_locked_package_with_its_package_url(runner):
    result = runner.invoke(args=["sbom"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.5")
    listed = {c["name"]: c for c in document["components"]}
    assert {name: c["version"] for name, c in listed.items()} == locked(LOCK)
    assert listed["flask"]["purl"] == f"pkg:pypi/flask@{metadata.version('flask')}"
    assert listed["flask"]["licenses"][0]["license"]["name"].startswith("BSD")
