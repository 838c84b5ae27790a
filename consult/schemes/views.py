"""Round 2's pages: workers write the schemes and answer the comments; residents read the schemes,
comment and state a preference; everyone reads the published answers; documents are served to whoever
may see them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.compounds.models import Compound
from consult.compounds.services import get_compound_for
from consult.db import utcnow
from consult.errors import NotFound
from consult.errors import commit_or_refuse
from consult.experts.services import closed_summary
from consult.experts.services import panel_of
from consult.experts.services import sits_on
from consult.extensions import db
from consult.forms import ConfirmForm
from consult.public.limits import public_pages
from consult.residents.access import current_invitation
from consult.residents.access import resident_required
from consult.residents.models import Invitation
from consult.residents.services import has_acknowledged_privacy
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import is_open_for_input
from consult.schemes import services
from consult.schemes import uploads
from consult.schemes.forms import AnswerForm
from consult.schemes.forms import CommentForm
from consult.schemes.forms import DocumentForm
from consult.schemes.forms import ItemForm
from consult.schemes.forms import NoteForm
from consult.schemes.forms import PreferenceForm
from consult.schemes.forms import SchemeForm
from consult.schemes.models import Scheme
from consult.schemes.models import SchemeComment
from consult.schemes.models import SchemeDocument
from consult.schemes.models import SchemeItem
from consult.schemes.models import SchemeVersion
from consult.schemes.rules import OUTCOME_LABELS
from consult.schemes.rules import may_add_scheme
from consult.schemes.rules import may_answer
from consult.schemes.rules import may_revise
from consult.schemes.rules import public_sees
from consult.schemes.rules import residents_see
from consult.schemes.rules import version_editable
from consult.schemes.services import SchemeRefused
from consult.schemes.uploads import UploadRejected
from consult.scoping import staff_round_or_404

bp = Blueprint("schemes", __name__)

VIEWERS = (Role.WORKER, Role.REVIEWER, Role.ADMIN)
EDITORS = (Role.WORKER, Role.ADMIN)
COMMENTS_PER_PAGE = 50


def _actor() -> str:
    return f"user:{current_user.id}"


def _private(rv: Any) -> Response:
    """A resident's personal page: never cached, its address never sent to another site."""
    response = make_response(rv)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- loading, with the scoping of each kind of visitor


def _staff_round(compound_id: int, round_id: int) -> tuple[Compound, Round]:
    """The compound (if this staff member may see it) and its round of schemes; else 404."""
    return staff_round_or_404(compound_id, round_id, RoundKind.SCHEME)


def _scheme(round_: Round, scheme_id: int) -> Scheme:
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or scheme.round_id != round_.id:
        abort(404)
    return scheme


def _version(round_: Round, scheme_id: int, number: int) -> SchemeVersion:
    scheme = _scheme(round_, scheme_id)
    version = next((v for v in scheme.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


def _item(round_: Round, item_id: int) -> SchemeItem:
    item = db.session.get(SchemeItem, item_id)
    if item is None or item.version.scheme.round_id != round_.id:
        abort(404)
    return item


def _resident_round(round_id: int) -> tuple[Invitation, Round]:
    invitation = current_invitation()
    assert invitation is not None
    round_ = db.session.get(Round, round_id)
    if (
        round_ is None
        or round_.compound_id != invitation.compound_id
        or round_.kind is not RoundKind.SCHEME
        or not residents_see(round_.state, revision=False)
    ):
        abort(404)
    return invitation, round_


# --- workers: the schemes of a round


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/schemes")
@role_required(*VIEWERS)
def overview(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    return _overview(compound, round_, SchemeForm())


def _overview(compound: Compound, round_: Round, form: SchemeForm, status: int = 200) -> Any:
    may_edit = current_user.role in EDITORS
    schemes = services.schemes_of(round_)
    counts = services.comment_counts(round_)
    total = sum(n for n, _answered in counts.values())
    answered = sum(a for _n, a in counts.values())
    return (
        render_template(
            "schemes/overview.html",
            compound=compound,
            round=round_,
            schemes=schemes,
            counts=counts,
            total_comments=total,
            unanswered=total - answered,
            tally=services.preference_tally(round_),
            blocker=services.publish_blocker(round_) if round_.state is RoundState.CLOSED else None,
            form=form if may_edit and may_add_scheme(round_.state) else None,
            removals={s.id: _removal(s.id) for s in schemes},
            may_revise=may_edit and may_revise(round_.state),
            may_carry_over=may_edit
            and may_add_scheme(round_.state)
            and round_.repeat_of_id is not None
            and not schemes,
            panel=panel_of(round_),
            panel_summary=closed_summary(round_),
            may_form_panel=current_user.role in (Role.REVIEWER, Role.ADMIN),
        ),
        status,
    )


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/schemes")
@role_required(*EDITORS)
def add(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    form = SchemeForm()
    if not form.validate_on_submit():
        return _overview(compound, round_, form, 422)
    try:
        scheme = services.add_scheme(round_, form.title.data or "", _actor(), form.note.data or "")
    except SchemeRefused as refused:
        db.session.rollback()
        form.title.errors = [str(refused.message)]
        return _overview(compound, round_, form, 422)
    db.session.commit()
    flash(
        _("Scheme %(label)s added. Now list its items and add its documents.", label=scheme.label), "success"
    )
    return redirect(
        url_for("schemes.version", compound_id=compound.id, round_id=round_.id, scheme_id=scheme.id, number=1)
    )


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/schemes/carry-over")
@role_required(*EDITORS)
def carry_over(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    made, copies = commit_or_refuse(lambda: services.carry_over(round_, _actor()), None, SchemeRefused)
    if made:
        flash(_("Schemes copied from the failed attempt: %(count)s.", count=len(copies or [])), "success")
    return redirect(url_for("schemes.overview", compound_id=compound.id, round_id=round_.id))


def _removal(scheme_id: int) -> ConfirmForm:
    """The confirmation of one scheme's removal (each scheme's box has its own name on the page)."""
    return ConfirmForm(prefix=f"remove{scheme_id}")


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/schemes/<int:scheme_id>/delete")
@role_required(*EDITORS)
def remove(compound_id: int, round_id: int, scheme_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    scheme = _scheme(round_, scheme_id)
    if not _removal(scheme.id).validate_on_submit():
        flash(_("Tick the box beside “Remove this scheme” to confirm."), "error")
        return redirect(url_for("schemes.overview", compound_id=compound.id, round_id=round_.id))
    made, files = commit_or_refuse(
        lambda: services.remove_scheme(scheme, _actor()), _("The scheme is removed."), SchemeRefused
    )
    if made:
        services.forget_files(files or [])
    return redirect(url_for("schemes.overview", compound_id=compound.id, round_id=round_.id))


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/schemes/<int:scheme_id>/revise")
@role_required(*EDITORS)
def revise(compound_id: int, round_id: int, scheme_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    scheme = _scheme(round_, scheme_id)
    made, version = commit_or_refuse(lambda: services.revise(scheme, _actor(), utcnow()), None, SchemeRefused)
    if not made or version is None:
        return redirect(url_for("schemes.overview", compound_id=compound.id, round_id=round_.id))
    flash(
        _(
            "The revised version is ready to change. Comments it takes up so far: %(count)s.",
            count=len(version.taken_up),
        ),
        "success",
    )
    return redirect(
        url_for(
            "schemes.version",
            compound_id=compound.id,
            round_id=round_.id,
            scheme_id=scheme.id,
            number=version.number,
        )
    )


# --- workers: one version


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/schemes/<int:scheme_id>/versions/<int:number>")
@role_required(*VIEWERS)
def version(compound_id: int, round_id: int, scheme_id: int, number: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    return _version_page(compound, round_, _version(round_, scheme_id, number))


def _version_page(
    compound: Compound,
    round_: Round,
    version_: SchemeVersion,
    *,
    note_form: NoteForm | None = None,
    item_form: ItemForm | None = None,
    edit_forms: dict[int, ItemForm] | None = None,
    document_form: DocumentForm | None = None,
    status: int = 200,
) -> Any:
    editable = current_user.role in EDITORS and version_editable(round_.state, version_.revision)
    edits = {item.id: ItemForm(prefix=f"item{item.id}", formdata=None, obj=item) for item in version_.items}
    edits.update(edit_forms or {})
    return (
        render_template(
            "schemes/version.html",
            compound=compound,
            round=round_,
            scheme=version_.scheme,
            version=version_,
            editable=editable,
            note_form=note_form or NoteForm(formdata=None, note=version_.note),
            item_form=item_form or ItemForm(prefix="new", formdata=None),
            edit_forms=edits,
            document_form=document_form or DocumentForm(formdata=None),
            counts=services.comment_counts(round_),
            outcome_labels=OUTCOME_LABELS,
            max_size=uploads.megabytes(uploads.max_bytes()),
        ),
        status,
    )


def _back_to(version_: SchemeVersion, compound: Compound, anchor: str | None = None) -> Any:
    return redirect(
        url_for(
            "schemes.version",
            compound_id=compound.id,
            round_id=version_.scheme.round_id,
            scheme_id=version_.scheme_id,
            number=version_.number,
            _anchor=anchor,
        )
    )


@bp.post(
    "/compounds/<int:compound_id>/rounds/<int:round_id>/schemes/<int:scheme_id>/versions/<int:number>/note"
)
@role_required(*EDITORS)
def edit_note(compound_id: int, round_id: int, scheme_id: int, number: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    version_ = _version(round_, scheme_id, number)
    form = NoteForm()
    if not form.validate_on_submit():
        return _version_page(compound, round_, version_, note_form=form, status=422)
    commit_or_refuse(
        lambda: services.set_note(version_, form.note.data or "", _actor()), _("Saved."), SchemeRefused
    )
    return _back_to(version_, compound)


@bp.post(
    "/compounds/<int:compound_id>/rounds/<int:round_id>/schemes/<int:scheme_id>/versions/<int:number>/items"
)
@role_required(*EDITORS)
def add_item(compound_id: int, round_id: int, scheme_id: int, number: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    version_ = _version(round_, scheme_id, number)
    form = ItemForm(prefix="new")
    if not form.validate_on_submit():
        return _version_page(compound, round_, version_, item_form=form, status=422)
    try:
        item = services.add_item(version_, form.title.data or "", form.description.data or "", _actor())
    except SchemeRefused as refused:
        db.session.rollback()
        form.title.errors = [str(refused.message)]
        return _version_page(compound, round_, version_, item_form=form, status=422)
    db.session.commit()
    flash(_("Item added."), "success")
    return _back_to(version_, compound, f"item-{item.id}")


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/items/<int:item_id>")
@role_required(*EDITORS)
def edit_item(compound_id: int, round_id: int, item_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    item = _item(round_, item_id)
    form = ItemForm(prefix=f"item{item.id}")
    if not form.validate_on_submit():
        return _version_page(compound, round_, item.version, edit_forms={item.id: form}, status=422)
    try:
        services.update_item(item, form.title.data or "", form.description.data or "", _actor())
    except SchemeRefused as refused:
        db.session.rollback()
        form.title.errors = [str(refused.message)]
        return _version_page(compound, round_, item.version, edit_forms={item.id: form}, status=422)
    else:
        db.session.commit()
        flash(_("Saved."), "success")
    return _back_to(item.version, compound, f"item-{item.id}")


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/items/<int:item_id>/delete")
@role_required(*EDITORS)
def remove_item(compound_id: int, round_id: int, item_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    item = _item(round_, item_id)
    version_ = item.version
    commit_or_refuse(lambda: services.remove_item(item, _actor()), _("Item removed."), SchemeRefused)
    return _back_to(version_, compound)


@bp.post(
    "/compounds/<int:compound_id>/rounds/<int:round_id>/schemes/<int:scheme_id>/versions/<int:number>/documents"
)
@role_required(*EDITORS)
def upload(compound_id: int, round_id: int, scheme_id: int, number: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    version_ = _version(round_, scheme_id, number)
    form = DocumentForm()
    if form.validate_on_submit():
        storage = form.file.data
        data = storage.stream.read(uploads.max_bytes() + 1)
        try:
            document = services.add_document(version_, data, storage.filename or "", _actor(), utcnow())
        except UploadRejected as rejected:
            db.session.rollback()
            form.file.errors = [str(rejected.message)]
        except SchemeRefused as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return _back_to(version_, compound)
        else:
            db.session.commit()
            flash(_("Document %(name)s added.", name=document.filename), "success")
            return _back_to(version_, compound, "documents")
    return _version_page(compound, round_, version_, document_form=form, status=422)


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/documents/<int:document_id>/delete")
@role_required(*EDITORS)
def remove_document(compound_id: int, round_id: int, document_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    document = db.session.get(SchemeDocument, document_id)
    if document is None or document.version.scheme.round_id != round_.id:
        abort(404)
    version_ = document.version
    made, stored = commit_or_refuse(
        lambda: services.remove_document(document, _actor()), _("Document removed."), SchemeRefused
    )
    if made and stored is not None:
        services.forget_files([stored])
    return _back_to(version_, compound, "documents")


# --- workers: comments and their answers


def _comment_filters() -> tuple[int | None, bool]:
    return request.args.get("item", type=int), request.args.get("unanswered") == "1"


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/comments")
@role_required(*VIEWERS)
def comments(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    return _comments_page(compound, round_)


def _comments_page(
    compound: Compound, round_: Round, failed: tuple[int, AnswerForm] | None = None, status: int = 200
) -> Any:
    item_id, unanswered = _comment_filters()
    page = db.paginate(
        services.comments_query(round_, item_id, unanswered), per_page=COMMENTS_PER_PAGE, error_out=False
    )
    revisions = services.revisions_of(round_)
    forms: dict[int, AnswerForm] = {}
    for comment in page.items:
        answer = comment.answer
        forms[comment.id] = AnswerForm(
            prefix=f"c{comment.id}",
            formdata=None,
            revisions=revisions,
            outcome=answer.outcome.value if answer else None,
            reason=answer.reason if answer else "",
            version=comment.revised_in_id or 0,
        )
    if failed is not None:
        forms[failed[0]] = failed[1]
    schemes = services.schemes_of(round_)
    items = [(s, item) for s in schemes for item in s.first.items]
    return (
        render_template(
            "schemes/comments.html",
            compound=compound,
            round=round_,
            page=page,
            forms=forms,
            items=items,
            item_id=item_id,
            unanswered=unanswered,
            may_answer=current_user.role in EDITORS and may_answer(round_.state),
            places={c.id: services.comment_author_place(c) for c in page.items},
            outcome_labels=OUTCOME_LABELS,
            version_name=services.version_name,
            blocker=services.publish_blocker(round_) if round_.state is RoundState.CLOSED else None,
            filters={k: v for k, v in request.args.items() if k in ("item", "unanswered", "page")},
        ),
        status,
    )


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/comments/<int:comment_id>/answer")
@role_required(*EDITORS)
def answer(compound_id: int, round_id: int, comment_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    comment = db.session.get(SchemeComment, comment_id)
    if comment is None or comment.round_id != round_.id:
        abort(404)
    revisions = services.revisions_of(round_)
    form = AnswerForm(prefix=f"c{comment.id}", revisions=revisions)
    filters = {k: v for k, v in request.args.items() if k in ("item", "unanswered", "page")}
    if not form.validate_on_submit():
        return _comments_page(compound, round_, (comment.id, form), 422)
    chosen = next((v for v in revisions if v.id == form.version.data), None)
    try:
        services.answer_comment(
            comment, form.outcome.data or "", form.reason.data or "", current_user, utcnow(), chosen
        )
    except SchemeRefused as refused:
        db.session.rollback()
        if may_answer(round_.state):
            form.reason.errors = [str(refused.message)]
            return _comments_page(compound, round_, (comment.id, form), 422)
        flash(str(refused.message), "error")
    else:
        db.session.commit()
        flash(_("The answer is saved."), "success")
    return redirect(
        url_for(
            "schemes.comments",
            compound_id=compound.id,
            round_id=round_.id,
            _anchor=f"comment-{comment.id}",
            **filters,
        )
    )


# --- residents


@bp.get("/me/schemes/<int:round_id>")
@resident_required
def resident_round(round_id: int) -> Any:
    invitation, round_ = _resident_round(round_id)
    return _private(_resident_page(invitation, round_))


def _resident_page(
    invitation: Invitation,
    round_: Round,
    *,
    failed: tuple[int, CommentForm] | None = None,
    preference_form: PreferenceForm | None = None,
    status: int = 200,
) -> Any:
    now = utcnow()
    schemes = services.schemes_of(round_)
    open_ = is_open_for_input(round_.state, round_.opens_at, round_.closes_at, now)
    acknowledged = has_acknowledged_privacy(invitation)
    may_take_part = open_ and acknowledged
    forms: dict[int, CommentForm] = {}
    if may_take_part:
        forms = {
            item.id: CommentForm(prefix=f"item{item.id}", formdata=None)
            for s in schemes
            for item in s.first.items
        }
        if failed is not None:
            forms[failed[0]] = failed[1]
    preferred = services.household_preference(invitation, round_)
    if preference_form is None and may_take_part and len(schemes) > 1:
        preference_form = PreferenceForm(
            formdata=None, schemes=schemes, scheme=preferred.scheme_id if preferred else None
        )
    return (
        render_template(
            "schemes/resident_round.html",
            invitation=invitation,
            compound=invitation.compound,
            round=round_,
            schemes=schemes,
            show_revisions=residents_see(round_.state, revision=True),
            is_open=open_,
            acknowledged=acknowledged,
            forms=forms,
            preference_form=preference_form if may_take_part else None,
            preferred=preferred,
            own=services.own_comments(invitation, round_),
            outcome_labels=OUTCOME_LABELS,
            version_name=services.version_name,
            published=public_sees(round_.state),
            panel_summary=closed_summary(round_) if public_sees(round_.state) else None,
        ),
        status,
    )


@bp.post("/me/schemes/<int:round_id>/items/<int:item_id>/comments")
@resident_required
def comment(round_id: int, item_id: int) -> Any:
    invitation, round_ = _resident_round(round_id)
    item = _item(round_, item_id)
    form = CommentForm(prefix=f"item{item.id}")
    if not form.validate_on_submit():
        return _private(_resident_page(invitation, round_, failed=(item.id, form), status=422))
    try:
        services.add_comment(invitation, item, form.body.data or "", utcnow())
    except NotFound:
        abort(404)
    except SchemeRefused as refused:
        db.session.rollback()
        if is_open_for_input(round_.state, round_.opens_at, round_.closes_at, utcnow()):
            form.body.errors = [str(refused.message)]  # the words of the comment are the problem
            return _private(_resident_page(invitation, round_, failed=(item.id, form), status=422))
        flash(str(refused.message), "error")
    else:
        db.session.commit()
        flash(_("Thank you: your comment is saved. You will see the answer here."), "success")
    return redirect(url_for("schemes.resident_round", round_id=round_.id, _anchor=f"item-{item.id}"))


@bp.post("/me/schemes/<int:round_id>/preference")
@resident_required
def prefer(round_id: int) -> Any:
    invitation, round_ = _resident_round(round_id)
    schemes = services.schemes_of(round_)
    form = PreferenceForm(schemes=schemes)
    if not form.validate_on_submit():
        return _private(_resident_page(invitation, round_, preference_form=form, status=422))
    scheme = next(s for s in schemes if s.id == form.scheme.data)
    commit_or_refuse(
        lambda: services.state_preference(invitation, scheme, utcnow()),
        _("Your preference is saved. You may change it until the round closes."),
        SchemeRefused,
    )
    return redirect(url_for("schemes.resident_round", round_id=round_.id, _anchor="preference"))


# --- the public page


@bp.get("/p/<int:compound_id>/answers/<int:round_id>")
@public_pages
def public_answers(compound_id: int, round_id: int) -> Any:
    compound = db.session.get(Compound, compound_id)
    round_ = db.session.get(Round, round_id)
    if (
        compound is None
        or round_ is None
        or round_.compound_id != compound.id
        or round_.kind is not RoundKind.SCHEME
    ):
        abort(404)
    if not public_sees(round_.state):
        return render_template(
            "schemes/public_answers.html", compound=compound, round=round_, published=False
        )
    tally = services.preference_tally(round_)
    return render_template(
        "schemes/public_answers.html",
        compound=compound,
        round=round_,
        published=True,
        schemes=services.schemes_of(round_),
        comments=services.public_comments(round_),
        tally=tally,
        stated=sum(n for _s, n in tally),
        version_name=services.version_name,
        panel_summary=closed_summary(round_),
    )


# --- documents


@bp.get("/schemes/documents/<int:document_id>")
def document(document_id: int) -> Any:
    """A document, to staff who may see its compound, to the experts on the round's panel, to the
    compound's residents once the version is shown to them, and to everyone once the round's answers are
    published."""
    doc = db.session.get(SchemeDocument, document_id)
    if doc is None:
        abort(404)
    version_ = doc.version
    round_ = version_.scheme.round
    public = public_sees(round_.state)
    panel_expert = sits_on(current_user, round_)
    if not (public or _staff_may_see(round_) or panel_expert or _resident_may_see(round_, version_)):
        abort(404)
    path = uploads.stored_path(doc.stored_name)
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype=doc.kind.mimetype,
        as_attachment=request.args.get("download") == "1",
        download_name=doc.filename,
        conditional=True,
        etag=doc.sha256,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response


def _staff_may_see(round_: Round) -> bool:
    if not current_user.is_authenticated or current_user.role not in VIEWERS:
        return False
    try:
        get_compound_for(current_user, round_.compound_id)
    except NotFound:
        return False
    return True


def _resident_may_see(round_: Round, version_: SchemeVersion) -> bool:
    invitation = current_invitation()
    return (
        invitation is not None
        and invitation.compound_id == round_.compound_id
        and residents_see(round_.state, version_.revision)
    )
