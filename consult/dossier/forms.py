"""Forms of the consensus record: submitting a version (with the funding figures), the review's return."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DecimalField
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from consult.dossier.rules import REASON_MAX
from consult.dossier.rules import REOPEN_DAYS
from consult.dossier.rules import REOPEN_DAYS_MAX
from consult.dossier.rules import SECTION_LABELS
from consult.dossier.rules import SECTIONS
from consult.forms import ConfirmForm


class SubmitForm(ConfirmForm):
    subsidy = DecimalField(
        _l("Subsidy per household (yuan)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, message=_l("Enter 0 or more."))],
    )
    share = DecimalField(
        _l("Residents' share of the cost, in percent"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=100, message=_l("Enter a number from 0 to 100."))],
    )
    deposit = DecimalField(
        _l("Maintenance fund deposit (yuan per m²)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, message=_l("Enter 0 or more."))],
    )
    note = TextAreaField(_l("Note on funding"), validators=[Optional(), Length(max=1000)])


class ApproveForm(ConfirmForm):
    """The decision to approve, with its box ticked."""


class ReturnForm(FlaskForm):
    reopen_round = RadioField(
        _l("Round to reopen"),
        choices=[
            SelectChoice("2", _l("Round 2: schemes, comments and answers (then the vote is held again)")),
            SelectChoice("3", _l("Round 3: the vote")),
        ],
        validators=[InputRequired(message=_l("Choose round 2 or round 3."))],
    )
    days = IntegerField(
        _l("Days the reopened round stays open"),
        default=REOPEN_DAYS,
        validators=[InputRequired(), NumberRange(min=1, max=REOPEN_DAYS_MAX)],
    )
    show_residents = BooleanField(_l("Show the reasons to residents on the public notice page"))

    def reasons(self) -> dict[str, str]:
        return {key: getattr(self, f"reason_{key}").data or "" for key in SECTIONS}

    def reason_fields(self) -> list[TextAreaField]:
        return [getattr(self, f"reason_{key}") for key in SECTIONS]


for _key in SECTIONS:
    setattr(
        ReturnForm,
        f"reason_{_key}",
        TextAreaField(SECTION_LABELS[_key], validators=[Optional(), Length(max=REASON_MAX)]),
    )
