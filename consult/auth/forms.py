from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import EqualTo
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from consult.auth.models import Role


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=200)])
    new = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=10, max=200)])
    again = PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("new", _l("The two passwords differ."))],
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("The 6-digit code your app shows"),
        validators=[InputRequired(), Length(min=6, max=12)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class SecondStepForm(FlaskForm):
    """The code that completes a sign-in: the app's, or a recovery code (letters too, so no number pad)."""

    code = StringField(
        _l("The 6-digit code your app shows, or a recovery code"),
        validators=[InputRequired(), Length(min=6, max=24)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"},
    )


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=200)])


class ResetForm(FlaskForm):
    new = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=10, max=200)])
    again = PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("new", _l("The two passwords differ."))],
    )


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=200)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[])
    street = SelectField(_l("Street (community workers only)"), choices=[])
    #: empty: the account gets a random password, and its owner a link to choose their own
    password = PasswordField(_l("First password"), validators=[Optional(), Length(min=10, max=200)])

    def __init__(self, *args: Any, streets: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(r.value, ROLE_LABELS[r]) for r in Role]
        self.street.choices = [SelectChoice("", _l("None")), *[SelectChoice(str(i), n) for i, n in streets]]


ROLE_LABELS = {
    Role.WORKER: _l("Community worker"),
    Role.EXPERT: _l("Expert"),
    Role.REVIEWER: _l("District reviewer"),
    Role.ADMIN: _l("Administrator"),
}
