"""The shared template filters: moments read the same on every staff page, in the district's time zone."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

from flask_babel import force_locale

from consult.ui import day
from consult.ui import when

LATE_EVENING_UTC = datetime(2026, 11, 27, 17, 5, tzinfo=UTC)  # 01:05 on the 28th in Chengdu


def test_a_moment_reads_as_its_local_day_and_minute_in_either_language(app):
    with app.test_request_context():
        for locale in ("zh_Hans_CN", "en"):
            with force_locale(locale):
                assert when(LATE_EVENING_UTC) == "2026-11-28 01:05"
                assert day(LATE_EVENING_UTC) == "2026-11-28"


def test_staff_templates_use_the_shared_filters_not_a_format_of_their_own(app):
    """One format on every staff page: a template writing its own date format (the locale's short form,
    or strftime on a UTC moment) would bring back the mix."""
    from pathlib import Path

    own_format = re.compile(r"datetimeformat\(|dateformat\((?!'long'\))|\.strftime\(")
    found = [
        f"{path}:{number}"
        for path in sorted(Path(app.root_path, "..", "templates").resolve().rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if own_format.search(line)
    ]
    assert found == []
