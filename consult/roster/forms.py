from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import HiddenField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
    )


class ConfirmImportForm(FlaskForm):
    import_id = HiddenField(validators=[InputRequired()])


class MergeOwnerForm(FlaskForm):
    """Another owner of the same name is this owner (one form per such owner: ``prefix`` names it)."""

    reason = StringField(
        _l("How you know they are one person"),
        validators=[
            DataRequired(_l("Say how you know: the reason is kept with the change.")),
            Length(max=500),
        ],
    )


class SeparateDwellingForm(FlaskForm):
    """One dwelling of this owner belongs to someone else of the same name (one form per dwelling)."""

    reason = StringField(
        _l("How you know it is someone else"),
        validators=[
            DataRequired(_l("Say how you know: the reason is kept with the change.")),
            Length(max=500),
        ],
    )
