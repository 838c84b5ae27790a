"""Template filters shared by every page."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from decimal import Decimal

from flask import Flask
from flask_babel import format_date
from flask_babel import format_datetime
from flask_babel import format_time
from flask_babel import get_locale
from flask_babel import to_user_timezone


def area(value: Decimal | str | None) -> str:
    """An area in m² with two decimals: 1234.5 → "1,234.50" (a stored record holds it as text)."""
    if value is None or value == "":
        return "–"
    return f"{Decimal(value):,.2f}"


def mask_name(name: str | None) -> str:
    """张*华 → 张*: the surname and one star, never the full name on public pages."""
    if not name:
        return ""
    return name[0] + "*"


def mask_phone(phone: str | None) -> str:
    """13812341234 → 138****1234: at most the first three and the last four characters shown, and
    never fewer than four hidden (a local number 87654321 → ****4321)."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    hidden = max(4, len(digits) - 7)
    tail = min(4, len(digits) - hidden)
    head = len(digits) - hidden - tail
    return digits[:head] + "*" * hidden + digits[len(digits) - tail :]


def last_minute(value: datetime) -> datetime:
    """A closing time as people read it: a close at local midnight is shown as the last minute of the day
    before (23:59, the last day one may still answer); any other close as it is."""
    local = to_user_timezone(value)
    return value - timedelta(minutes=1) if (local.hour, local.minute) == (0, 0) else value


def closes(value: datetime) -> str:
    """When a round closes, as residents read it everywhere (pages and e-mails): its day in words and
    its time on 24 hours, a close at midnight shown as the last minute of the day before (the last day
    one may still answer): "2026年12月11日 23:59", "December 11, 2026 23:59"."""
    return moment(last_minute(value))


def moment(value: datetime) -> str:
    """A moment as residents read it (pages and e-mails): its day in words and its time on 24 hours,
    "2026年12月1日 09:00", "December 1, 2026 09:00" (``closes`` for a closing time)."""
    local = to_user_timezone(value)
    return f"{format_date(local, 'long')} {format_time(local, 'HH:mm')}"


def when(value: datetime) -> str:
    """A moment on staff pages and receipts, the same in every language and on every page: its local
    day and minute, "2026-11-28 09:30"."""
    return format_datetime(value, "yyyy-MM-dd HH:mm")


def day(value: datetime) -> str:
    """A moment's local day, "2026-11-28" (a moment in UTC just before midnight is already the next
    day in Chengdu)."""
    return format_date(value, "yyyy-MM-dd")


def colon() -> str:
    """The colon between a label and what follows it, in the reader's language: "：" in Chinese (full
    width, no space), ": " in English."""
    return "：" if str(get_locale() or "zh").startswith("zh") else ": "


def register_filters(app: Flask) -> None:
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["closes"] = closes
    app.jinja_env.filters["moment"] = moment
    app.jinja_env.filters["last_minute"] = last_minute
    app.jinja_env.filters["area"] = area
    app.jinja_env.filters["mask_name"] = mask_name
    app.jinja_env.filters["mask_phone"] = mask_phone
