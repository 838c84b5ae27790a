"""The inventory of the runtime packages (SBOM, CycloneDX 1.5 JSON), from ``requirements.lock`` and the
installed packages' own metadata: each with its version, package URL and declared licence."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"


def canonical(name: str) -> str:
    """A package name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(lock: Path = LOCK) -> dict[str, str]:
    """canonical name -> version, of every package the lock pins."""
    pins = {}
    for line in lock.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _sep, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    return pins


def _licence(name: str) -> str | None:
    try:
        meta = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        return None
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = meta.get_all("Classifier") or []
    named = [c.split(" :: ")[-1] for c in classifiers if c.startswith("License ::")]
    if named:
        return named[0]
    text = (meta.get("License") or "").strip().splitlines()
    return text[0] if text else None


def bom(lock: Path = LOCK) -> dict[str, Any]:
    """The CycloneDX document of the locked packages."""
    components = []
    for name, version in sorted(locked(lock).items()):
        component: dict[str, Any] = {
            "type": "library",
            "name": name,
            "version": version,
            "purl": f"pkg:pypi/{name}@{version}",
        }
        licence = _licence(name)
        if licence:
            component["licenses"] = [{"license": {"name": licence}}]
        components.append(component)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "tongxin"}},
        "components": components,
    }
