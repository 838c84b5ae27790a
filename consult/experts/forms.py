"""Forms of the expert panels. The rubric and score forms have one field per criterion, so they are
built for the panel at hand."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from consult.experts.models import Criterion
from consult.experts.rules import Aggregation
from consult.experts.rules import Verdict
from consult.forms import ConfirmForm

AGGREGATION_LABELS = {
    Aggregation.MEAN: _l("Mean"),
    Aggregation.TRIMMED_MEAN: _l("Trimmed mean (highest and lowest dropped when five or more scored)"),
}
VERDICT_LABELS = {
    Verdict.RECOMMEND: _l("Recommend"),
    Verdict.RECOMMEND_WITH_CHANGES: _l("Recommend with changes"),
    Verdict.DO_NOT_RECOMMEND: _l("Do not recommend"),
}


class PanelForm(FlaskForm):
    members = SelectMultipleField(_l("Experts"), coerce=int, validators=[InputRequired()])
    chair = SelectField(_l("Chair"), coerce=int, validators=[InputRequired()])
    representatives = SelectMultipleField(
        _l("Residents' representatives (a say, no score unless the panel grants one)"),
        coerce=int,
        validators=[Optional()],
    )
    aggregation = SelectField(
        _l("Aggregation"),
        choices=[SelectChoice(a.value, label) for a, label in AGGREGATION_LABELS.items()],
        default=Aggregation.MEAN.value,
    )


class ActionForm(FlaskForm):
    """A button: freeze, submit, close (CSRF only)."""


class ReopenForm(ConfirmForm):
    """Open a closed panel again (its round reopened by the district review): why, and the box ticked."""

    reason = TextAreaField(
        _l("Why the panel is reopened (shown on the panel's page)"),
        validators=[InputRequired(), Length(max=2000)],
    )


class ConflictForm(FlaskForm):
    declared = RadioField(
        _l("Do you have a conflict of interest with this scheme?"),
        choices=[
            SelectChoice("no", _l("No, I have no conflict of interest")),
            SelectChoice("yes", _l("Yes, I have a conflict of interest")),
        ],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("What is the conflict?"), validators=[Length(max=2000)])


class RemarkForm(FlaskForm):
    body = TextAreaField(_l("Your remark on this scheme"), validators=[Length(max=5000)])


class OpinionForm(FlaskForm):
    verdict = RadioField(
        _l("Opinion"),
        choices=[SelectChoice(v.value, label) for v, label in VERDICT_LABELS.items()],
        validators=[InputRequired()],
    )
    required_changes = TextAreaField(_l("Changes required"), validators=[Length(max=5000)])


def rubric_form(criteria: Sequence[Criterion], names: dict[int, str]) -> FlaskForm:
    """Weight, scale and "remove" of each criterion, and one new criterion (used when it is named)."""

    class RubricForm(FlaskForm):
        new_name_zh = StringField(_l("New criterion: name in Chinese"), validators=[Length(max=100)])
        new_name_en = StringField(
            _l("Name in English (the Chinese name when left empty)"), validators=[Length(max=100)]
        )
        new_weight = IntegerField(_l("Weight"), validators=[Optional(), NumberRange(min=1, max=100)])
        new_scale = IntegerField(
            _l("Scale (highest score)"), validators=[Optional(), NumberRange(min=1, max=100)], default=10
        )

    for c in criteria:
        setattr(
            RubricForm,
            f"weight_{c.id}",
            IntegerField(
                _l("Weight of %(criterion)s", criterion=names[c.id]),
                validators=[InputRequired(), NumberRange(min=1, max=100)],
                default=c.weight,
            ),
        )
        setattr(
            RubricForm,
            f"scale_{c.id}",
            IntegerField(
                _l("Scale of %(criterion)s (highest score)", criterion=names[c.id]),
                validators=[InputRequired(), NumberRange(min=1, max=100)],
                default=c.scale,
            ),
        )
        setattr(RubricForm, f"remove_{c.id}", BooleanField(_l("Remove %(criterion)s", criterion=names[c.id])))
    return RubricForm()


def score_form(criteria: Sequence[Criterion], names: dict[int, str]) -> FlaskForm:
    class ScoreForm(FlaskForm):
        pass

    for c in criteria:
        setattr(
            ScoreForm,
            f"value_{c.id}",
            IntegerField(
                _l(
                    "%(criterion)s (0–%(scale)s; weight %(weight)s)",
                    criterion=names[c.id],
                    scale=c.scale,
                    weight=c.weight,
                ),
                validators=[
                    InputRequired(),
                    NumberRange(min=0, max=c.scale, message=_l("A whole number from %(min)s to %(max)s.")),
                ],
            ),
        )
        setattr(
            ScoreForm,
            f"comment_{c.id}",
            TextAreaField(
                _l("Comment on %(criterion)s", criterion=names[c.id]), validators=[Length(max=2000)]
            ),
        )
    return ScoreForm()
