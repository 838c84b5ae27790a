from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional


class CodeForm(FlaskForm):
    code = StringField(
        _l("Your code"),
        validators=[InputRequired(_l("Type the code printed on your card.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class CardSheetForm(FlaskForm):
    """Which cards to print. Printing issues new codes: the earlier cards of these people stop working."""

    building = SelectField(_l("Building"), choices=[], validate_choice=True)
    unit = StringField(_l("Unit (optional)"), validators=[Optional(), Length(max=40)])
    output = RadioField(
        _l("Format"),
        choices=[
            SelectChoice("pdf", _l("PDF for printing")),
            SelectChoice("html", _l("Web page for printing")),
        ],
        default="pdf",
        validators=[InputRequired()],
    )
    confirm = BooleanField(
        _l("I understand: cards printed before for these residents will stop working."),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )
    #: when the page with this form was made: cards printed after it are not printed again by sending
    #: the same form twice (a reload of the printed sheet)
    shown_at = HiddenField()

    def __init__(self, *args: Any, buildings: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.building.choices = [
            SelectChoice("", _l("All buildings")),
            *[SelectChoice(b, b) for b in buildings],
        ]
