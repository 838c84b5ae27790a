"""The resident page list (tests/resident_pages.py) covers every route a resident can reach: a new resident
route fails here until it is walked by the accessibility and page-weight tests, or said not to be a page."""

from __future__ import annotations

from tests.resident_pages import NOT_PAGES
from tests.resident_pages import PAGES
from tests.security.test_access_table import ACCESS
from tests.security.test_access_table import ANONYMOUS
from tests.security.test_access_table import CARD_HOLDERS


def test_every_resident_route_is_in_the_list():
    reachable = {
        endpoint
        for endpoint, who in ACCESS.items()
        if who & (CARD_HOLDERS | {ANONYMOUS}) and not endpoint.startswith("api.")
    }
    listed = {p.endpoint for p in PAGES} - {"errors.404"}
    assert reachable - listed - set(NOT_PAGES) == set(), (
        "resident routes missing from tests/resident_pages.py"
    )
    assert listed <= reachable, "pages listed that are no resident route"
    assert not listed & set(NOT_PAGES)


def test_each_page_has_a_unique_name():
    names = [p.name for p in PAGES]
    assert len(names) == len(set(names))
