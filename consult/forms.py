"""Forms more than one area uses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired


class ConfirmForm(FlaskForm):
    """A button for what cannot be undone: it acts only with its box ticked (the page says what the box
    stands for, with the ``confirm_box`` macro); no script needed."""

    confirm = BooleanField(_l("Confirmation"), validators=[InputRequired(_l("Tick the box to confirm."))])
