from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms.validators import InputRequired
from wtforms.validators import Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
