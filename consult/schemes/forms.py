"""Forms of round 2: schemes, items and documents (workers); comments and preferences (residents);
answers (workers)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from consult.schemes.models import Scheme
from consult.schemes.models import SchemeVersion
from consult.schemes.rules import COMMENT_MAX
from consult.schemes.rules import OUTCOME_LABELS
from consult.schemes.rules import REASON_MAX
from consult.schemes.rules import AnswerOutcome

TEXT_MAX = 5000


class SchemeForm(FlaskForm):
    title = StringField(
        _l("Title of the scheme"),
        validators=[InputRequired(_l("Give the scheme a title.")), Length(max=200)],
    )
    note = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=TEXT_MAX)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Summary of this version"), validators=[Optional(), Length(max=TEXT_MAX)])


class ItemForm(FlaskForm):
    title = StringField(_l("Item"), validators=[InputRequired(_l("Give the item a title.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=TEXT_MAX)])


class DocumentForm(FlaskForm):
    file = FileField(
        _l("Document (PDF, JPEG or PNG)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment on this item"),
        validators=[InputRequired(_l("Write your comment first.")), Length(max=COMMENT_MAX)],
    )


class PreferenceForm(FlaskForm):
    scheme = RadioField(
        _l("The scheme you prefer"),
        coerce=int,
        validators=[InputRequired(_l("Choose a scheme."))],
    )

    def __init__(self, *args: Any, schemes: list[Scheme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scheme.choices = [
            SelectChoice(s.id, _l("Scheme %(label)s: %(title)s", label=s.label, title=s.title))
            for s in schemes
        ]


class AnswerForm(FlaskForm):
    outcome = RadioField(
        _l("Answer"),
        choices=[SelectChoice(o.value, OUTCOME_LABELS[o]) for o in AnswerOutcome],
        validators=[InputRequired(_l("Choose whether the comment is adopted."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(_l("Give the reason for the answer.")), Length(max=REASON_MAX)],
    )
    version = SelectField(_l("Taken up by"), coerce=int, default=0, validators=[Optional()])

    def __init__(self, *args: Any, revisions: list[SchemeVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version.choices = [
            SelectChoice(0, _l("The revised version of its own scheme")),
            *[
                SelectChoice(
                    v.id, _l("Scheme %(label)s, version %(number)s", label=v.scheme.label, number=v.number)
                )
                for v in revisions
            ],
        ]
