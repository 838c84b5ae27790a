"""How often one client may ask for the public pages, the poster PDF and the open-data API.

Counted per client address (``PROXY_FIX_HOPS`` must be set behind a reverse proxy), in the store of
``RATELIMIT_STORAGE_URI``. Past a limit the answer is 429 (a page, or JSON on the API).
"""

from __future__ import annotations

from flask import current_app

from consult.extensions import limiter


def public_limit() -> str:
    return current_app.config["PUBLIC_LIMIT"]


def poster_limit() -> str:
    return current_app.config["POSTER_LIMIT"]


def api_limit() -> str:
    return current_app.config["API_LIMIT"]


#: every public notice page of every area, counted together
public_pages = limiter.shared_limit(public_limit, scope="public-pages")
#: the poster PDF is drawn on each request, so it has a tighter limit of its own as well
poster_pdfs = limiter.limit(poster_limit, scope="poster-pdf")
