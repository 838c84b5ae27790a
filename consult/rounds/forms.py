from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import IntegerField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional


def local_midnight(day: date) -> datetime:
    """The start of a day in the district's time zone, as an aware datetime."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def day_end(day: date) -> datetime:
    """The end of a day (midnight after it), in the district's time zone."""
    return local_midnight(day + timedelta(days=1))


def local_day(moment: datetime) -> date:
    """The day a moment falls on in the district's time zone."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def schedule_days(opens_at: datetime | None, closes_at: datetime | None) -> dict[str, date]:
    """A round's dates as the schedule form asks for them: the day it opens, and the last day it is open
    (a close at midnight is the end of the day before)."""
    days = {}
    if opens_at is not None:
        days["opens"] = local_day(opens_at)
    if closes_at is not None:
        days["closes"] = local_day(closes_at - timedelta(microseconds=1))
    return days


class PlanRoundsForm(FlaskForm):
    start = DateField(_l("First round opens on"), validators=[InputRequired()])


class ScheduleForm(FlaskForm):
    opens = DateField(_l("Opens on"), validators=[InputRequired()])
    closes = DateField(_l("Closes at the end of"), validators=[InputRequired()])
    notice_days = IntegerField(_l("Notice days"), validators=[InputRequired(), NumberRange(min=0, max=60)])


class ActionForm(FlaskForm):
    reason = TextAreaField(_l("Why (kept in the history)"), validators=[Optional(), Length(max=2000)])
