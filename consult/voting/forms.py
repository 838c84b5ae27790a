"""Forms of the vote: a worker's question, the resident's ballot, a paper entry, a proxy's authority."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import DateField
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from consult.voting.counting import ABSTAIN
from consult.voting.counting import Precedence
from consult.voting.counting import QuestionKind
from consult.voting.counting import Scope
from consult.voting.counting import Topic
from consult.voting.models import Proxy
from consult.voting.models import VoteQuestion


def select_choices(pairs: Sequence[tuple[Any, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


TOPICS = [
    (Topic.PLAN.value, _l("The renovation plan")),
    (Topic.LIFT.value, _l("A lift")),
    (Topic.MANAGEMENT.value, _l("Property management mode")),
    (Topic.PACT.value, _l("The pact")),
    (Topic.FUNDING.value, _l("Residents' share of the cost")),
    (Topic.OTHER.value, _l("Other")),
]
RULES = [
    ("civil_code_major", _l("Civil Code 278, major matters: 2/3 take part, 3/4 of them agree")),
    ("civil_code_ordinary", _l("Civil Code 278, other matters: 2/3 take part, over half of them agree")),
    ("programme_admission", _l("Entering the programme: 2/3 of all owners agree")),
    ("custom", _l("The compound's own bars (below)")),
]
PRECEDENCES = [
    (Precedence.LATER_SIGNED.value, _l("The later act counts (paper: its signing day)")),
    (Precedence.PAPER.value, _l("A confirmed paper ballot always counts over online ones")),
    (Precedence.ONLINE.value, _l("An online ballot always counts over paper ones")),
]


class QuestionForm(FlaskForm):
    topic = SelectField(_l("Topic"), choices=select_choices(TOPICS), validators=[InputRequired()])
    prompt_zh = StringField(_l("Question (Chinese)"), validators=[InputRequired(), Length(max=500)])
    prompt_en = StringField(_l("Question (English, optional)"), validators=[Optional(), Length(max=500)])
    kind = SelectField(
        _l("Answers"),
        choices=select_choices(
            [
                (QuestionKind.YES_NO.value, _l("Yes, no or abstain")),
                (QuestionKind.CHOICE.value, _l("One option among several, or abstain")),
            ]
        ),
    )
    options = TextAreaField(_l("Options of a choice question"), validators=[Optional(), Length(max=2000)])
    scope = SelectField(
        _l("Who votes"),
        choices=select_choices(
            [
                (Scope.COMPOUND.value, _l("The owners of the whole compound")),
                (Scope.BUILDING.value, _l("The owners of one building")),
                (Scope.UNIT.value, _l("The owners of one unit (a lift)")),
            ]
        ),
    )
    place = SelectField(_l("Building or unit"), choices=[], validate_choice=False)
    rule = SelectField(_l("Consent rule"), choices=select_choices(RULES))
    participation_area = StringField(_l("Participation by area"), validators=[Optional(), Length(max=20)])
    participation_count = StringField(_l("Participation by owners"), validators=[Optional(), Length(max=20)])
    approval_area = StringField(_l("Approval by area"), validators=[Optional(), Length(max=20)])
    approval_count = StringField(_l("Approval by owners"), validators=[Optional(), Length(max=20)])
    approval_base = SelectField(
        _l("Approval is counted among"),
        choices=select_choices([("voters", _l("the owners who voted")), ("all", _l("all owners in scope"))]),
    )

    def __init__(self, *args: Any, places: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.place.choices = select_choices([("", _l("(the whole compound)")), *places])

    def option_rows(self) -> list[tuple[str, str, str | None]]:
        """The options, one a line, "中文 / English": keys o1, o2 … in their order."""
        rows = []
        for line in (self.options.data or "").splitlines():
            if not line.strip():
                continue
            zh, _sep, en = line.partition("/")
            rows.append((f"o{len(rows) + 1}", zh.strip(), en.strip() or None))
        return rows


class EmptyForm(FlaskForm):
    """A button that posts: CSRF only."""


class SettingsForm(FlaskForm):
    precedence = SelectField(
        _l("When an owner voted both online and on paper"), choices=select_choices(PRECEDENCES)
    )
    proxy_limit = IntegerField(
        _l("Owners one proxy may act for"), validators=[Optional(), NumberRange(min=1, max=20)]
    )


def choice_labels(question: VoteQuestion, locale: str) -> list[SelectChoice]:
    if question.kind is QuestionKind.YES_NO:
        pairs = [("yes", _l("Yes, I agree")), ("no", _l("No, I do not agree"))]
    else:
        pairs = [(o["key"], question.option_label(o["key"], locale)) for o in question.options]
    return select_choices([*pairs, (ABSTAIN, _l("I abstain"))])


#: what a resident is told of a question left without an answer, and what a worker entering a paper
#: ballot is told
UNANSWERED = _l("Choose an answer (or abstain).")
UNANSWERED_ON_PAPER = _l(
    "Enter the answer marked on the paper ballot; a question left blank on it is entered as abstaining."
)


def _question_fields(
    form_class: type, questions: Sequence[VoteQuestion], locale: str, unanswered: Any = UNANSWERED
) -> None:
    for question in questions:
        setattr(
            form_class,
            f"q{question.id}",
            RadioField(
                question.prompt(locale),
                choices=choice_labels(question, locale),
                validators=[InputRequired(message=unanswered)],
            ),
        )


def ballot_form(questions: Sequence[VoteQuestion], locale: str, **kwargs: Any) -> FlaskForm:
    """The ballot of one owner: a radio group for each of their questions (field ``q<id>``)."""

    class BallotForm(FlaskForm):
        pass

    _question_fields(BallotForm, questions, locale)
    return BallotForm(**kwargs)


def question_fields(form: FlaskForm, questions: Sequence[VoteQuestion]) -> list[Any]:
    return [form[f"q{q.id}"] for q in questions]


def paper_form(
    questions: Sequence[VoteQuestion], proxies: Sequence[Proxy], locale: str, *, photo: bool, **kwargs: Any
) -> FlaskForm:
    """A worker's entry of a paper ballot: the signing day, a proxy's signature, the choices, and (first
    entry) the photo of the signed sheet."""

    class PaperForm(FlaskForm):
        signed_on = DateField(_l("Signed on"), validators=[InputRequired()])
        proxy = SelectField(_l("Signed by"), choices=[], validate_choice=True)

    if photo:
        PaperForm.photo = FileField(  # type: ignore[attr-defined]
            _l("Photo of the signed ballot (required)"),
            validators=[FileRequired(_l("A photo of the ballot is required."))],
        )
    _question_fields(PaperForm, questions, locale, UNANSWERED_ON_PAPER)
    form = PaperForm(**kwargs)
    form.proxy.choices = select_choices(
        [("", _l("The owner"))] + [(str(p.id), _l("Proxy: %(name)s", name=p.proxy_name)) for p in proxies]
    )
    return form


class ChooseOwnerForm(FlaskForm):
    owner = SelectField(_l("Owner"), choices=[], validators=[InputRequired()])

    def __init__(self, *args: Any, owners: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = select_choices(owners)


class ChooseEntryForm(FlaskForm):
    entry = RadioField(_l("The entry that matches the photo"), choices=[], validators=[InputRequired()])
    reason = TextAreaField(_l("Why (kept in the history)"), validators=[InputRequired(), Length(max=2000)])


class InspectForm(FlaskForm):
    """A staff member asks to see one owner's ballots, and says why (logged)."""

    owner = SelectField(_l("Owner"), choices=[], validators=[InputRequired()])
    reason = TextAreaField(
        _l("Why you need to see how this owner voted (kept in the log)"),
        validators=[InputRequired(), Length(max=500)],
    )

    def __init__(self, *args: Any, owners: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = select_choices(owners)


class ProxyForm(FlaskForm):
    owner = SelectField(_l("Owner who gives the authority"), choices=[], validators=[InputRequired()])
    proxy_owner = SelectField(_l("Proxy, if an owner of this compound"), choices=[])
    proxy_name = StringField(_l("Otherwise, the proxy's name"), validators=[Optional(), Length(max=100)])
    photo = FileField(
        _l("Photo of the written authority"),
        validators=[FileRequired(_l("A photo of the authority is required."))],
    )

    def __init__(self, *args: Any, owners: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = select_choices(owners)
        self.proxy_owner.choices = select_choices([("", _l("(not an owner here)")), *owners])
