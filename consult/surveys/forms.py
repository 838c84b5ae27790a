"""Forms of the needs survey: a worker's own question, a decision on a need, and a resident's answer
(built for each survey, since its extra questions vary)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import Field
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from consult.surveys.catalogue import CATEGORY_ORDER
from consult.surveys.catalogue import Category
from consult.surveys.catalogue import category_label
from consult.surveys.models import Survey
from consult.surveys.models import SurveyAnswer
from consult.surveys.rules import DECISION_LABELS
from consult.surveys.rules import QUESTION_KIND_LABELS
from consult.surveys.rules import WILLINGNESS_CHOICES
from consult.surveys.rules import AnswerValues
from consult.surveys.rules import Decision
from consult.surveys.rules import QuestionKind
from consult.surveys.rules import SurveySpec
from consult.surveys.rules import answer_problems
from consult.surveys.rules import question_field
from consult.surveys.rules import split_options

MAX_OPTIONS = 20
TOO_LONG = _l("Write at most %(max)s characters.")


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuestionForm(FlaskForm):
    kind = RadioField(
        _l("Kind of question"),
        choices=[SelectChoice(k.value, label) for k, label in QUESTION_KIND_LABELS.items()],
        default=QuestionKind.SINGLE.value,
        validators=[InputRequired(_l("Choose the kind of question."))],
    )
    prompt_zh = StringField(
        _l("Question (Chinese)"),
        validators=[InputRequired(_l("Write the question.")), Length(max=500, message=TOO_LONG)],
    )
    prompt_en = StringField(
        _l("Question in English (optional)"), validators=[Optional(), Length(max=500, message=TOO_LONG)]
    )
    options_zh = TextAreaField(
        _l("Options (Chinese), one per line"), validators=[Length(max=4000, message=TOO_LONG)]
    )
    options_en = TextAreaField(
        _l("Options in English (optional), one per line, in the same order"),
        validators=[Length(max=4000, message=TOO_LONG)],
    )
    required = BooleanField(_l("An answer is required"))

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.kind.data == QuestionKind.TEXT.value:
            return True
        zh = split_options(self.options_zh.data or "")
        en = split_options(self.options_en.data or "")
        if not 2 <= len(zh) <= MAX_OPTIONS:
            self.options_zh.errors.append(_l("Give between 2 and 20 options, one per line."))
        elif any(len(o) > 200 for o in zh + en):
            self.options_zh.errors.append(_l("An option may have at most 200 characters."))
        if en and len(en) != len(zh):
            self.options_en.errors.append(_l("Give as many English options as Chinese ones, or none."))
        return not (self.options_zh.errors or self.options_en.errors)

    def options(self) -> list[tuple[str, str | None]]:
        if self.kind.data == QuestionKind.TEXT.value:
            return []
        zh = split_options(self.options_zh.data or "")
        en = split_options(self.options_en.data or "")
        return [(label, en[n] if en else None) for n, label in enumerate(zh)]


class DecisionForm(FlaskForm):
    """One need's decision; made with ``prefix=<code>`` so that several fit on one page.

    It has no CSRF field of its own: its template posts the page's plain ``csrf_token``, which the
    global CSRFProtect checks before the view runs."""

    class Meta:
        csrf = False

    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice(d.value, label) for d, label in DECISION_LABELS.items()],
        validators=[InputRequired(_l("Choose a decision."))],
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000, message=TOO_LONG)])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.decision.data == Decision.NOT_NOW.value and not (self.reason.data or "").strip():
            self.reason.errors.append(_l("Say why this need is left for later."))
            return False
        return True


class AnswerForm(FlaskForm):
    """A resident's answer. Fields are added per survey by :func:`answer_form`; every rule is checked by
    :func:`consult.surveys.rules.answer_problems`, so the form and the service agree."""

    spec: SurveySpec
    extra_fields: list[tuple[int, QuestionKind, str, bool]]
    need_groups: list[tuple[str, list[Field]]]

    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)
        for name, problem in answer_problems(self.spec, self.values()).items():
            self[name].errors = [*self[name].errors, problem]
        return not self.errors

    def values(self) -> AnswerValues:
        extra: dict[int, Any] = {}
        for question_id, _kind, name, _required in self.extra_fields:
            data = self[name].data
            if data not in (None, "", []):
                extra[question_id] = data
        return AnswerValues(
            willingness=self.willingness.data or None,
            needs=tuple(self.needs.data or ()),
            hazards=tuple(self.hazards.data or ()),
            hazard_note=self.hazard_note.data or "",
            extra=extra,
        )

    def choice_fields(self) -> list[Field]:
        """The fields drawn as a group of radio buttons or checkboxes (each in a fieldset)."""
        return [f for f in self if isinstance(f, RadioField | SelectMultipleField)]


#: the box a worker ticks to save a paper survey over the home's answer
REPLACE_CONFIRMATION = _l(
    "I have checked that this paper form is newer than the answer above and should replace it"
)


def answer_form(
    survey: Survey,
    spec: SurveySpec,
    locale: str,
    answer: SurveyAnswer | None = None,
    replacing: bool = False,
    **kwargs: Any,
) -> AnswerForm:
    """The answer form of this survey, in this locale, filled with ``answer`` when given (GET).

    ``replacing``: a paper survey entered with this form would replace the home's answer; the form then
    carries the id of the answer shown (``replaces``, set by the page) and a box the worker must tick to
    confirm replacing it."""

    class SurveyAnswerForm(AnswerForm):
        pass

    if replacing:
        SurveyAnswerForm.replaces = HiddenField()  # type: ignore[attr-defined]
        SurveyAnswerForm.replace_confirmed = BooleanField(  # type: ignore[attr-defined]
            REPLACE_CONFIRMATION,
            validators=[
                DataRequired(_l("Tick the box to confirm that this paper survey replaces the answer above."))
            ],
        )

    needs = [i for i in survey.items if i.category is not Category.SAFETY]
    hazards = [i for i in survey.items if i.category is Category.SAFETY]
    SurveyAnswerForm.willingness = RadioField(  # type: ignore[attr-defined]
        _l("Do you agree to renovating the compound?"),
        choices=[SelectChoice(w.value, label) for w, label in WILLINGNESS_CHOICES.items()],
        validate_choice=False,
    )
    SurveyAnswerForm.needs = CheckboxesField(  # type: ignore[attr-defined]
        _l("What does your home need most? Pick up to three."),
        choices=[SelectChoice(i.code, i.name(locale)) for i in needs],
        validate_choice=False,
    )
    SurveyAnswerForm.hazards = CheckboxesField(  # type: ignore[attr-defined]
        _l("Report a danger"),
        choices=[SelectChoice(i.code, i.name(locale)) for i in hazards],
        validate_choice=False,
    )
    SurveyAnswerForm.hazard_note = TextAreaField(  # type: ignore[attr-defined]
        _l("Where is the danger? (optional)")
    )
    extra_fields = []
    for question in survey.questions:
        name = question_field(question.id)
        label = question.prompt(locale)
        choices = [SelectChoice(o.id, o.label(locale)) for o in question.options]
        field: Any
        if question.kind is QuestionKind.SINGLE:
            field = RadioField(label, choices=choices, coerce=int, validate_choice=False)
        elif question.kind is QuestionKind.MULTIPLE:
            field = CheckboxesField(label, choices=choices, coerce=int, validate_choice=False)
        else:
            field = TextAreaField(label)
        setattr(SurveyAnswerForm, name, field)
        extra_fields.append((question.id, question.kind, name, question.required))

    if answer is not None and "formdata" not in kwargs:
        data: dict[str, Any] = {
            "willingness": answer.willingness.value,
            "needs": list(answer.needs),
            "hazards": list(answer.hazards),
            "hazard_note": answer.hazard_note,
        }
        for question_id, _kind, name, _required in extra_fields:
            if str(question_id) in answer.extra:
                data[name] = answer.extra[str(question_id)]
        kwargs["data"] = data
    form = SurveyAnswerForm(**kwargs)
    form.spec = spec
    form.extra_fields = extra_fields
    by_code = {i.code: i.category for i in needs}
    form.need_groups = [
        (category_label(category), [sub for sub in form.needs if by_code.get(sub.data) is category])
        for category in CATEGORY_ORDER
        if category is not Category.SAFETY
    ]
    return form
