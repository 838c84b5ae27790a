"""Roster import pages: upload, preview (or the list of problems), confirm."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.errors import NotFound
from consult.extensions import db
from consult.roster.forms import ConfirmImportForm
from consult.roster.forms import RosterUploadForm
from consult.roster.parse import RosterRejected
from consult.roster.services import RosterFrozen
from consult.roster.services import apply_staged
from consult.roster.services import ensure_not_frozen
from consult.roster.services import stage_upload
from consult.scoping import staff_compound_or_404

bp = Blueprint("roster", __name__, url_prefix="/compounds")

IMPORTERS = (Role.WORKER, Role.ADMIN)


@bp.route("/<int:compound_id>/roster", methods=["GET", "POST"])
@role_required(*IMPORTERS)
def upload(compound_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    form = RosterUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            staged, plan = stage_upload(compound, upload.read(), upload.filename or "", current_user.id)
        except RosterRejected as rejected:
            db.session.rollback()
            return (
                render_template(
                    "roster/upload.html", compound=compound, form=form, problems=rejected.problems
                ),
                422,
            )
        except RosterFrozen as frozen:
            db.session.rollback()
            flash(str(frozen), "error")
            return render_template("roster/upload.html", compound=compound, form=form, problems=None), 409
        db.session.commit()
        confirm = ConfirmImportForm(import_id=str(staged.id))
        return render_template(
            "roster/preview.html", compound=compound, staged=staged, plan=plan, confirm=confirm
        )
    try:
        ensure_not_frozen(compound)
    except RosterFrozen as frozen:
        flash(str(frozen), "info")  # said before the worker prepares a file
    return render_template("roster/upload.html", compound=compound, form=form, problems=None)


@bp.post("/<int:compound_id>/roster/apply")
@role_required(*IMPORTERS)
def apply(compound_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit() or not (form.import_id.data or "").isdigit():
        abort(400)
    try:
        plan = apply_staged(compound, int(form.import_id.data), f"user:{current_user.id}")
    except NotFound:
        abort(404)
    except RosterRejected:
        db.session.rollback()
        flash(_("The roster changed since the preview. Please upload the file again."), "error")
        return redirect(url_for("roster.upload", compound_id=compound.id))
    except RosterFrozen as frozen:
        db.session.rollback()
        flash(str(frozen), "error")
        return redirect(url_for("roster.upload", compound_id=compound.id))
    db.session.commit()
    flash(
        _(
            "Roster imported: %(created)s dwellings added, %(updated)s updated.",
            created=plan.dwellings.created,
            updated=plan.dwellings.updated,
        ),
        "success",
    )
    return redirect(url_for("compounds.detail", compound_id=compound.id))
