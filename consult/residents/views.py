"""Residents' pages: coming in by a card's link or code, the home page, the privacy notice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.audit.services import record
from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.db import utcnow
from consult.extensions import db
from consult.extensions import limiter
from consult.residents.access import current_invitation
from consult.residents.access import end_resident_session
from consult.residents.access import leave_everywhere
from consult.residents.access import resident_required
from consult.residents.access import start_resident_session
from consult.residents.cards import cards_html
from consult.residents.cards import cards_pdf
from consult.residents.forms import CardSheetForm
from consult.residents.forms import CodeForm
from consult.residents.models import Invitation
from consult.residents.models import RevokeReason
from consult.residents.page_cache import keep_until
from consult.residents.page_cache import kept_page
from consult.residents.rules import looks_like_token
from consult.residents.rules import read_code
from consult.residents.services import IssuedCard
from consult.residents.services import acknowledge_privacy
from consult.residents.services import card_for
from consult.residents.services import card_people
from consult.residents.services import find_by_code
from consult.residents.services import find_by_token
from consult.residents.services import has_acknowledged_privacy
from consult.residents.services import issue_cards
from consult.residents.services import mark_used
from consult.residents.services import person_of
from consult.residents.services import printed_since
from consult.residents.services import revoke
from consult.rounds.rules import next_turn
from consult.rounds.services import compound_rounds
from consult.safety import local_target
from consult.schemes.services import my_answers
from consult.schemes.services import resident_links as scheme_links
from consult.scoping import staff_compound_or_404
from consult.surveys.services import published_links as published_needs
from consult.surveys.services import resident_links as survey_links
from consult.ui import when
from consult.voting.services import published_links as published_results
from consult.voting.services import resident_links as vote_links

bp = Blueprint("residents", __name__)

#: what each round's area offers a resident: (label, url, already answered)
RESIDENT_LINKS = (survey_links, scheme_links, vote_links)
#: what each area has published for the compound: (label, url)
PUBLISHED_LINKS = (published_needs, published_results)


def client_limit() -> str:
    return current_app.config["RESIDENT_CODE_LIMIT"]


def compound_limit() -> str:
    return current_app.config["RESIDENT_COMPOUND_LIMIT"]


def compound_key() -> str:
    return f"compound:{(request.view_args or {}).get('compound_id')}"


def failed(response: Response) -> bool:
    """Only wrong codes count against the limits; a resident who gets in costs nothing."""
    return response.status_code >= 400


@bp.after_request
def private_page(response: Response) -> Response:
    """Personal pages are never cached, and no address of them leaks to another site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _enter(
    invitation: Invitation | None, form: CodeForm | None = None, compound_id: int | None = None
) -> Any:
    """Sign in by a card; wrong codes, revoked cards and each use of a card are audited (never the code)."""
    if invitation is None:
        record("anonymous", "code.wrong", compound_id, via="form" if form is not None else "link")
        db.session.commit()
        form = form or CodeForm()
        form.code.errors = [_("This code is not known. Check it against your card and try again.")]
        return render_template("residents/enter_code.html", form=form, compound=None), 404
    if not invitation.is_active:
        record("anonymous", "code.revoked_used", invitation.compound_id, invitation=invitation.id)
        db.session.commit()
        return render_template("residents/revoked.html", compound=invitation.compound), 410
    now = utcnow()
    start_resident_session(invitation, now)
    mark_used(invitation, now)
    record(f"resident:{invitation.id}", "code.used", invitation.compound_id)
    db.session.commit()
    return redirect(url_for("residents.home"))  # the code leaves the address bar


#: wrong codes per client, counted together over the link and both code forms
code_attempts = limiter.shared_limit(
    client_limit, scope="resident-code", deduct_when=failed, methods=["GET", "POST"]
)
#: wrong codes typed on one compound's page, whoever types them
compound_attempts = limiter.shared_limit(
    compound_limit, scope="compound-code", key_func=compound_key, deduct_when=failed, methods=["POST"]
)


@bp.get("/r/<token>")
@code_attempts
def enter_link(token: str) -> Any:
    """The link in a card's QR code."""
    return _enter(find_by_token(token) if looks_like_token(token) else None)


@bp.route("/code", methods=["GET", "POST"])
@code_attempts
def enter_code() -> Any:
    """Typing the short code instead of scanning."""
    form = CodeForm()
    if form.validate_on_submit():
        code = read_code(form.code.data or "")
        return _enter(find_by_code(code) if code else None, form)
    status = 422 if form.errors else 200
    return render_template("residents/enter_code.html", form=form, compound=None), status


@bp.route("/p/<int:compound_id>/code", methods=["GET", "POST"])
@limiter.limit(client_limit, deduct_when=failed, scope="resident-code", methods=["POST"])
@limiter.limit(
    compound_limit, key_func=compound_key, deduct_when=failed, scope="compound-code", methods=["POST"]
)
def enter_code_for(compound_id: int) -> Any:
    """Typing the code from a compound's notice page: only that compound's codes are accepted."""
    from consult.public.views import public_compound

    compound = public_compound(compound_id)
    form = CodeForm()
    if form.validate_on_submit():
        code = read_code(form.code.data or "")
        return _enter(find_by_code(code, compound.id) if code else None, form, compound.id)
    status = 422 if form.errors else 200
    return render_template("residents/enter_code.html", form=form, compound=compound), status


@bp.get("/me")
@kept_page
@resident_required
def home() -> Any:
    invitation = current_invitation()
    assert invitation is not None
    person = person_of(invitation)
    now = utcnow()
    rounds = compound_rounds(invitation.compound_id)
    keep_until(next_turn(rounds, now))
    links = [link for provider in RESIDENT_LINKS for link in provider(invitation, now, rounds)]
    return render_template(
        "residents/home.html",
        invitation=invitation,
        person=person,
        compound=invitation.compound,
        acknowledged=has_acknowledged_privacy(invitation),
        retention_days=current_app.config["RETENTION_DAYS"],
        open_now=[(label, url) for label, url, done, still_open in links if still_open and not done],
        answered=[(label, url) for label, url, done, _open in links if done],
        may_change=any(done and still_open for _label, _url, done, still_open in links),
        # what the resident took no part in and can no longer answer is still there to read
        published=[(label, url) for label, url, done, still_open in links if not (done or still_open)]
        + [link for provider in PUBLISHED_LINKS for link in provider(invitation, rounds)],
        my_answers=my_answers(invitation),
    )


@bp.post("/me/privacy")
@resident_required
def acknowledge() -> Any:
    invitation = current_invitation()
    assert invitation is not None
    acknowledge_privacy(invitation, utcnow())
    db.session.commit()
    flash(_("Thank you. You can now take part."), "success")
    return redirect(url_for("residents.home"))


@bp.post("/me/leave")
def leave() -> Any:
    """Leave: the card's sessions end on the server, on this device and on any other."""
    invitation = current_invitation()
    if invitation is not None:
        leave_everywhere(invitation)
        record(f"resident:{invitation.id}", "resident.left", invitation.compound_id)
        db.session.commit()
    end_resident_session()
    flash(_("You have left. Scan your card again to come back."), "info")
    return redirect(url_for("residents.enter_code"))


# --- community workers: printing cards, revoking a lost one


def _send_cards(compound: Any, issued: list[IssuedCard], output: str, title: str) -> Any:
    cards = [card_for(i, compound.name) for i in issued]
    if output == "html":
        response = Response(cards_html(cards, title), mimetype="text/html")
    else:
        response = Response(
            cards_pdf(cards, title),
            mimetype="application/pdf",
            headers={"Content-Disposition": f"attachment; filename=cards-{compound.id}.pdf"},
        )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/compounds/<int:compound_id>/cards", methods=["GET", "POST"])
@role_required(Role.WORKER, Role.ADMIN)
def print_cards(compound_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    labels = [b.label for b in compound.buildings]
    form = CardSheetForm(buildings=labels)
    if form.validate_on_submit():
        building = form.building.data or None
        unit = (form.unit.data or "").strip() or None
        if unit and not building:
            form.unit.errors = [_("Choose the building of this unit.")]
        else:
            people = card_people(compound, building, unit)
            shown_at = _moment(form.shown_at.data)
            if not people and unit:
                form.unit.errors = [_("Nobody is registered in this unit of the building.")]
            elif not people:
                form.building.errors = [_("Nobody is registered there yet: import the roster first.")]
            elif shown_at is None:
                form.confirm.errors = [_("This form is out of date: tick the box again to print the cards.")]
                form.confirm.data = False
            elif (printed := printed_since(people, shown_at)) is not None:
                # the same form sent again (the printed sheet reloaded): printing again would switch off
                # the cards just printed
                form.confirm.errors = [
                    _(
                        "These cards were printed at %(time)s, after this page was opened, and are not "
                        "printed again from it. To make new ones (the cards printed then stop working), "
                        "tick the box again.",
                        time=when(printed),
                    )
                ]
                form.confirm.data = False
            else:
                issued = issue_cards(people, compound, f"user:{current_user.id}", utcnow())
                db.session.commit()
                return _send_cards(compound, issued, form.output.data or "pdf", compound.name)
    form.shown_at.data = utcnow().isoformat()
    return render_template("residents/print_cards.html", compound=compound, form=form)


def _moment(text: str | None) -> datetime | None:
    """A moment a form carries (ISO 8601, aware), or None when it is missing or not one."""
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@bp.post("/compounds/<int:compound_id>/invitations/<int:invitation_id>/revoke")
@role_required(Role.WORKER, Role.ADMIN)
def revoke_card(compound_id: int, invitation_id: int) -> Any:
    """A lost card: its code stops working at once."""
    compound = staff_compound_or_404(compound_id)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.compound_id != compound.id:
        abort(404)
    revoke(invitation, RevokeReason.LOST, f"user:{current_user.id}", utcnow())
    db.session.commit()
    flash(_("The card is switched off. Print a new card for this resident."), "success")
    return redirect(
        local_target(request.form.get("next"), url_for("compounds.detail", compound_id=compound.id))
    )


@bp.post("/compounds/<int:compound_id>/cards/one")
@role_required(Role.WORKER, Role.ADMIN)
def print_one_card(compound_id: int) -> Any:
    """A new card for one owner or occupant; their earlier card stops working."""
    compound = staff_compound_or_404(compound_id)
    owner_id = request.form.get("owner_id", type=int)
    occupant_id = request.form.get("occupant_id", type=int)
    people = [
        p
        for p in card_people(compound)
        if (owner_id is not None and p.owner is not None and p.owner.id == owner_id)
        or (occupant_id is not None and p.occupant is not None and p.occupant.id == occupant_id)
    ]
    if len(people) != 1:
        abort(404)
    issued = issue_cards(people, compound, f"user:{current_user.id}", utcnow())
    db.session.commit()
    return _send_cards(compound, issued, "pdf", compound.name)
