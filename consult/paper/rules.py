"""Printed paper versions of the survey and the ballot: pure helpers (no Flask, no database)."""

from __future__ import annotations

from collections.abc import Iterable


def survey_sheet_code(dwelling_id: int) -> str:
    """The short number printed on a dwelling's paper survey: the worker finds the home by it."""
    return f"S{dwelling_id}"


def ballot_sheet_code(owner_id: int) -> str:
    """The short number printed on an owner's paper ballot."""
    return f"B{owner_id}"


def in_building(places: Iterable[int], building_id: int | None) -> bool:
    """Whether a sheet belongs on a print run: every sheet for the compound, else those of one building."""
    return building_id is None or building_id in set(places)
