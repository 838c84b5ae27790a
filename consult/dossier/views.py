"""Pages of the consensus record: the compound's record (workers), a frozen version and its PDF, the
public verification page, and the district review's queue and decisions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.db import utcnow
from consult.dossier import rules
from consult.dossier import services
from consult.dossier.forms import ApproveForm
from consult.dossier.forms import ReturnForm
from consult.dossier.forms import SubmitForm
from consult.dossier.labels import label
from consult.dossier.models import ConsensusRecord
from consult.dossier.rules import return_problems
from consult.extensions import db
from consult.scoping import staff_compound_or_404

bp = Blueprint("dossier", __name__)

READERS = (Role.WORKER, Role.REVIEWER, Role.ADMIN)
RUNNERS = (Role.WORKER, Role.ADMIN)
REVIEWERS = (Role.REVIEWER, Role.ADMIN)


def returned_context(compound_id: int, public: bool = False) -> dict[str, Any]:
    """For the compound, round and public pages: the open return of the record (on public pages only
    when the reviewer chose to show residents its reasons)."""
    returned = services.open_return(compound_id)
    if returned is not None and public and not returned.show_residents:
        returned = None
    return {"returned": returned, "record_label": label, "record_sections": rules.reasons_in_order}


def _actor() -> str:
    return f"user:{current_user.id}"


def _version_or_404(compound_id: int, version: int) -> tuple[Any, ConsensusRecord]:
    compound = staff_compound_or_404(compound_id)
    record = services.record_version(compound.id, version)
    if record is None:
        abort(404)
    return compound, record


def _record_page(compound: Any, form: SubmitForm) -> Any:
    records = services.records_of(compound.id)
    return render_template(
        "dossier/record.html",
        compound=compound,
        records=records,
        status={r.id: services.status_of(r) for r in records},
        returned=services.open_return(compound.id),
        blocker=services.submit_blocker(compound),
        may_run=current_user.role in RUNNERS,
        form=form,
        label=label,
        sections=rules.reasons_in_order,
    )


@bp.get("/compounds/<int:compound_id>/record")
@role_required(*READERS)
def record(compound_id: int) -> Any:
    return _record_page(staff_compound_or_404(compound_id), SubmitForm())


@bp.post("/compounds/<int:compound_id>/record")
@role_required(*RUNNERS)
def submit(compound_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        return _record_page(compound, form), 422
    funding = services.Funding(form.subsidy.data, form.share.data, form.deposit.data, form.note.data or "")
    try:
        frozen = services.submit_record(compound, funding, _actor(), utcnow())
        db.session.commit()
    except services.RecordRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("dossier.record", compound_id=compound.id))
    flash(
        _("Version %(version)s of the record is submitted to the district review.", version=frozen.version),
        "success",
    )
    return redirect(url_for("dossier.version", compound_id=compound.id, version=frozen.version))


@bp.get("/compounds/<int:compound_id>/record/preview")
@role_required(*READERS)
def preview(compound_id: int) -> Any:
    """The record as a version submitted now would hold it, to read before submitting."""
    compound = staff_compound_or_404(compound_id)
    content, blocker = services.preview(compound, utcnow())
    return render_template(
        "dossier/preview.html", compound=compound, content=content, blocker=blocker, label=label
    )


@bp.get("/compounds/<int:compound_id>/record/<int:version>")
@role_required(*READERS)
def version(compound_id: int, version: int) -> Any:
    compound, found = _version_or_404(compound_id, version)
    return render_template(
        "dossier/version.html",
        compound=compound,
        record=found,
        content=services.content_of(found),
        status=services.status_of(found),
        intact=services.is_intact(found),
        decided_by=services.decided_by(found.decision) if found.decision else None,
        label=label,
        group_digest=rules.group_digest,
        sections=rules.reasons_in_order,
    )


@bp.get("/compounds/<int:compound_id>/record/<int:version>/dossier.pdf")
@role_required(*READERS)
def pdf(compound_id: int, version: int) -> Any:
    compound, found = _version_or_404(compound_id, version)
    data = services.dossier_pdf(found, str(get_locale() or "zh_CN"))
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="record-{compound.id}-v{found.version}.pdf"'},
    )


@bp.get("/verify")
def verify() -> Any:
    """Public: does a digest match a submitted record, and which? (compound, version, date, status)"""
    typed = request.args.get("digest", "")
    digest = rules.read_digest(typed)
    found = services.find_by_digest(digest) if digest else None
    return render_template(
        "dossier/verify.html",
        typed=typed,
        digest=digest,
        found=found,
        status=services.status_of(found) if found else None,
        label=label,
        group_digest=rules.group_digest,
    )


@bp.get("/district/records")
@role_required(*REVIEWERS)
def queue() -> Any:
    return render_template(
        "dossier/queue.html",
        waiting=services.review_queue(),
        decided=services.recent_decisions(),
        label=label,
    )


def _review_page(found: ConsensusRecord, approve_form: ApproveForm, return_form: ReturnForm) -> Any:
    latest = services.latest_record(found.compound_id)
    return render_template(
        "dossier/review.html",
        record=found,
        compound=found.compound,
        content=services.content_of(found),
        status=services.status_of(found),
        decidable=found.decision is None and latest is not None and latest.id == found.id,
        decided_by=services.decided_by(found.decision) if found.decision else None,
        approve_form=approve_form,
        return_form=return_form,
        label=label,
        group_digest=rules.group_digest,
        sections=rules.reasons_in_order,
    )


def _record_or_404(record_id: int) -> ConsensusRecord:
    found = db.session.get(ConsensusRecord, record_id)
    if found is None:
        abort(404)
    return found


@bp.get("/district/records/<int:record_id>")
@role_required(*REVIEWERS)
def review(record_id: int) -> Any:
    return _review_page(_record_or_404(record_id), ApproveForm(), ReturnForm())


@bp.post("/district/records/<int:record_id>/approve")
@role_required(*REVIEWERS)
def approve(record_id: int) -> Any:
    found = _record_or_404(record_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _review_page(found, form, ReturnForm()), 422
    try:
        services.approve(found, _actor(), utcnow())
        db.session.commit()
    except services.RecordRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("dossier.review", record_id=found.id))
    flash(_("The record is approved."), "success")
    return redirect(url_for("dossier.queue"))


@bp.post("/district/records/<int:record_id>/return")
@role_required(*REVIEWERS)
def return_record(record_id: int) -> Any:
    found = _record_or_404(record_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        # the reasons are checked beside the form's fields, so that every problem is said at once
        missing = return_problems(form.reasons(), None, None).get("reasons")
        if missing:
            flash(str(missing), "error")
        return _review_page(found, ApproveForm(), form), 422
    try:
        services.return_record(
            found,
            form.reasons(),
            int(form.reopen_round.data),
            form.days.data,
            form.show_residents.data,
            _actor(),
            utcnow(),
        )
        db.session.commit()
    except services.RecordRefused as refused:
        db.session.rollback()
        if not refused.problems:
            flash(str(refused), "error")
            return redirect(url_for("dossier.review", record_id=found.id))
        fields = {"reopen_round": form.reopen_round, "days": form.days}
        for name, problem in refused.problems.items():
            if name in fields:
                fields[name].errors = [*fields[name].errors, str(problem)]
            else:  # the reasons: no one field to mark
                flash(str(problem), "error")
        return _review_page(found, ApproveForm(), form), 422
    flash(
        _("The record is returned and round %(number)s is reopened.", number=form.reopen_round.data),
        "success",
    )
    return redirect(url_for("dossier.queue"))
