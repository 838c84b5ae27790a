"""Resident pages kept as rendered (页面缓存), for the card holder who opens them again.

A kept page is served again only while everything it was made from still holds:

- the same card, signed-in session and form token (the page's forms carry that token), language, type
  size and address (one without a query string);
- the same content versions of the compound and of the card's owner (``compounds.versions``): any
  committed change that a resident's page may show moves one of them, in the transaction of the change;
- the clock has not passed the page's next turning point (a round opening or closing, given by the view
  with ``keep_until``), nor ``RESIDENT_PAGE_SECONDS`` since it was made.

A page shown with a message ("Your vote is saved.") is neither served from nor kept. Each worker process
keeps its own ``RESIDENT_PAGE_CACHE`` pages, the least recently used going first (0: keep none).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import current_app
from flask import g
from flask import request
from flask import session
from flask_babel import get_locale

from consult.db import utcnow
from consult.residents.access import SignedInCard
from consult.residents.access import signed_in_card

Key = tuple[Any, ...]


class PageCache:
    """Rendered pages by key, each with the moment it stops being served; the oldest used go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[Key, tuple[str, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key, now: datetime) -> str | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if now >= entry[1]:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return entry[0]

    def put(self, key: Key, page: str, until: datetime) -> None:
        with self._lock:
            self._pages[key] = (page, until)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def pages() -> PageCache | None:
    size = current_app.config["RESIDENT_PAGE_CACHE"]
    if not size:
        return None
    cache = current_app.extensions.get("resident_pages")
    if cache is None:
        cache = current_app.extensions["resident_pages"] = PageCache(size)
    return cache


def keep_until(moment: datetime | None) -> None:
    """The page being made changes by itself at ``moment`` (a round opens or closes then)."""
    if moment is not None and ("page_until" not in g or moment < g.page_until):
        g.page_until = moment


def _key(card: SignedInCard | None) -> Key | None:
    form_token = session.get("csrf_token")
    if card is None or not form_token:
        return None
    return (
        request.path,
        card.invitation_id,
        card.session_token,
        form_token,
        card.compound_version,
        card.owner_version,
        str(get_locale()),
        bool(session.get("large_type")),
    )


def kept_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve this resident page (a GET that returns its HTML) as kept, or make it and keep it. Checks the
    card itself, in one light query: put it outside ``resident_required``, which a kept page skips."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        cache = pages()
        if cache is None or "_flashes" in session or request.query_string:
            return view(*args, **kwargs)  # an address with a query is not kept: none can fill the cache
        now = utcnow()
        card = signed_in_card()  # the versions are read before anything the page is made from
        key = _key(card)
        if key is not None:
            page = cache.get(key, now)
            if page is not None:
                return page
        page = view(*args, **kwargs)
        key = key or _key(card)  # a first page makes the session's form token
        if isinstance(page, str) and key is not None and "_flashes" not in session:
            until = now + timedelta(seconds=current_app.config["RESIDENT_PAGE_SECONDS"])
            cache.put(key, page, min(until, g.get("page_until", until)))
        return page

    return wrapped
