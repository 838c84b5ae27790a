"""Roster pages: upload, preview (or the list of problems), confirm; an owner, merged with another of the
same name or separated from one of their dwellings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.compounds.models import Compound
from consult.compounds.models import Owner
from consult.errors import NotFound
from consult.extensions import db
from consult.residents.services import active_cards
from consult.roster import owners
from consult.roster.forms import ConfirmImportForm
from consult.roster.forms import MergeOwnerForm
from consult.roster.forms import RosterUploadForm
from consult.roster.forms import SeparateDwellingForm
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


# --- owners corrected by hand

OWNER_READERS = (Role.WORKER, Role.REVIEWER, Role.ADMIN)


def _owner_or_404(compound: Compound, owner_id: int) -> Owner:
    try:
        return owners.owner_in(compound, owner_id)
    except NotFound:
        abort(404)


@bp.get("/<int:compound_id>/owners/namesakes")
@role_required(*OWNER_READERS)
def namesakes(compound_id: int) -> Any:
    """The key-less owners who share their name with another: where a worker looks for one person
    listed as two owners."""
    compound = staff_compound_or_404(compound_id)
    return render_template(
        "roster/namesakes.html", compound=compound, groups=owners.namesakes(compound), place=owners.place
    )


@bp.get("/<int:compound_id>/owners/<int:owner_id>")
@role_required(*OWNER_READERS)
def owner(compound_id: int, owner_id: int) -> Any:
    """An owner's dwellings; for a worker, the owners of the same name to merge with this one, and the
    dwellings to separate from it."""
    compound = staff_compound_or_404(compound_id)
    found = _owner_or_404(compound, owner_id)
    return _owner_page(compound, found)


def _owner_page(
    compound: Compound, found: Owner, failed: tuple[str, FlaskForm] | None = None, status: int = 200
) -> Any:
    """The owner's page; ``failed``, a form just refused (with its prefix), shows its errors in its place."""
    frozen = None
    try:
        ensure_not_frozen(compound)
    except RosterFrozen as refused:
        frozen = str(refused)
    candidates = owners.same_name_owners(found)
    changes = owners.history(found)

    def form(name: str, kind: type[FlaskForm]) -> Any:
        return failed[1] if failed is not None and failed[0] == name else kind(prefix=name, formdata=None)

    forms: dict[str, FlaskForm] = {}
    for other in candidates:
        forms[f"merge-{other.id}"] = form(f"merge-{other.id}", MergeOwnerForm)
    for dwelling in found.dwellings:
        separation = form(f"separate-{dwelling.id}", SeparateDwellingForm)
        # each reason says which dwelling it is for
        label = _("How you know the owner of %(place)s is someone else", place=owners.place(dwelling))
        separation.reason.label.text = label
        forms[f"separate-{dwelling.id}"] = separation
    return (
        render_template(
            "roster/owner.html",
            compound=compound,
            owner=found,
            place=owners.place,
            candidates=candidates,
            changes=changes,
            present=owners.existing({c.other for c in changes}),
            forms=forms,
            may_change=current_user.role in IMPORTERS and frozen is None,
            frozen=frozen,
            separation_refusal=owners.separation_refusal(owners.OwnerFacts.of(found)),
            cards=active_cards({found.id} | {o.id for o in candidates}, set()),
        ),
        status,
    )


@bp.post("/<int:compound_id>/owners/<int:owner_id>/merge/<int:other_id>")
@role_required(*IMPORTERS)
def merge(compound_id: int, owner_id: int, other_id: int) -> Any:
    """The owner ``other_id`` is this owner: theirs become this owner's."""
    compound = staff_compound_or_404(compound_id)
    keep = _owner_or_404(compound, owner_id)
    other = _owner_or_404(compound, other_id)
    name = f"merge-{other.id}"
    form = MergeOwnerForm(prefix=name)
    if not form.validate_on_submit():
        return _owner_page(compound, keep, (name, form), 422)
    try:
        moved = owners.merge_owners(compound, keep, other, form.reason.data or "", f"user:{current_user.id}")
    except (owners.OwnerRefused, RosterFrozen) as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("roster.owner", compound_id=compound.id, owner_id=keep.id))
    db.session.commit()
    flash(
        ngettext(
            "Merged: %(num)s dwelling more is this owner's; the other owner's card no longer works.",
            "Merged: %(num)s dwellings more are this owner's; the other owner's card no longer works.",
            len(moved),
        ),
        "success",
    )
    return redirect(url_for("roster.owner", compound_id=compound.id, owner_id=keep.id))


@bp.post("/<int:compound_id>/owners/<int:owner_id>/separate/<int:dwelling_id>")
@role_required(*IMPORTERS)
def separate(compound_id: int, owner_id: int, dwelling_id: int) -> Any:
    """The dwelling belongs to someone else of the same name: it gets an owner of its own."""
    compound = staff_compound_or_404(compound_id)
    found = _owner_or_404(compound, owner_id)
    dwelling = next((d for d in found.dwellings if d.id == dwelling_id), None)
    if dwelling is None:
        abort(404)
    name = f"separate-{dwelling.id}"
    form = SeparateDwellingForm(prefix=name)
    if not form.validate_on_submit():
        return _owner_page(compound, found, (name, form), 422)
    try:
        own = owners.separate_dwelling(compound, dwelling, form.reason.data or "", f"user:{current_user.id}")
    except (owners.OwnerRefused, RosterFrozen) as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("roster.owner", compound_id=compound.id, owner_id=found.id))
    db.session.commit()
    flash(_("Separated: the dwelling has an owner of its own. Print them a card."), "success")
    return redirect(url_for("roster.owner", compound_id=compound.id, owner_id=own.id))
