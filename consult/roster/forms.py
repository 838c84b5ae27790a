from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import HiddenField
from wtforms.validators import InputRequired


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
    )


class ConfirmImportForm(FlaskForm):
    import_id = HiddenField(validators=[InputRequired()])
