"""The shared template filters: moments read the same on every staff page, in the district's time zone."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

from flask_babel import force_locale

from consult.ui import closes
from consult.ui import day
from consult.ui import last_minute
from consult.ui import when

LATE_EVENING_UTC = datetime(2026, 11, 27, 17, 5, tzinfo=UTC)  # 01:05 on the 28th in Chengdu


def test_a_moment_reads_as_its_local_day_and_minute_in_either_language(app):
    with app.test_request_context():
        for locale in ("zh_Hans_CN", "en"):
            with force_locale(locale):
                assert when(LATE_EVENING_UTC) == "2026-11-28 01:05"
                assert day(LATE_EVENING_UTC) == "2026-11-28"


def test_a_closing_time_reads_the_same_for_staff_and_residents(app):
    """A round closing at local midnight reads as 23:59 of the day before (its last day); one closing at
    any other minute reads as that minute, on staff pages (``last_minute|when``) as on residents'."""
    midnight = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 00:00 on the 8th in Chengdu
    evening = datetime(2026, 12, 7, 12, 14, tzinfo=UTC)  # 20:14 on the 7th
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert when(last_minute(midnight)) == "2026-12-07 23:59"
        assert closes(midnight) == "2026年12月7日 23:59"
        assert when(last_minute(evening)) == "2026-12-07 20:14"
        assert closes(evening) == "2026年12月7日 20:14"


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
