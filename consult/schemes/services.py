"""Use-cases of round 2 (二上二下): schemes and their versions, items and documents; residents' comments
and preferences; the answer to every comment; what the round engine asks of this area.

Services flush and never commit; the view commits once. ``now`` is passed in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from consult.audit.services import record
from consult.auth.models import User
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.errors import ConsultError
from consult.errors import NotFound
from consult.extensions import db
from consult.notify.emails import site_path
from consult.notify.services import enqueue_to
from consult.residents.models import Invitation
from consult.residents.services import has_acknowledged_privacy
from consult.residents.services import person_of
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import is_open_for_input
from consult.rounds.services import compound_rounds
from consult.rounds.services import register
from consult.schemes import uploads
from consult.schemes.models import CommentAnswer
from consult.schemes.models import Scheme
from consult.schemes.models import SchemeComment
from consult.schemes.models import SchemeDocument
from consult.schemes.models import SchemeItem
from consult.schemes.models import SchemePreference
from consult.schemes.models import SchemeVersion
from consult.schemes.rules import OUTCOME_LABELS
from consult.schemes.rules import PUBLISHED
from consult.schemes.rules import AnswerOutcome
from consult.schemes.rules import AuthorRole
from consult.schemes.rules import CommentFacts
from consult.schemes.rules import answer_blocker
from consult.schemes.rules import answer_problem
from consult.schemes.rules import comment_problem
from consult.schemes.rules import may_add_scheme
from consult.schemes.rules import may_answer
from consult.schemes.rules import may_revise
from consult.schemes.rules import needs_revision
from consult.schemes.rules import next_label
from consult.schemes.rules import tally
from consult.schemes.rules import version_editable


class SchemeRefused(ConsultError):
    """Not allowed now; ``message`` says why, in words the person understands."""


def resident_actor(invitation: Invitation) -> str:
    return f"resident:{invitation.id}"


def version_name(label: str, number: int) -> str:
    """ "Scheme A, version 2", in the language of the request."""
    return _("Scheme %(label)s, version %(number)s", label=label, number=number)


# --- reading


def schemes_of(round_: Round) -> list[Scheme]:
    """The alternatives of a round, A first, with their versions, items and documents."""
    return list(
        db.session.scalars(
            select(Scheme)
            .where(Scheme.round_id == round_.id)
            .order_by(Scheme.label)
            .options(
                selectinload(Scheme.versions).options(
                    selectinload(SchemeVersion.items), selectinload(SchemeVersion.documents)
                )
            )
        )
    )


def revisions_of(round_: Round) -> list[SchemeVersion]:
    """The revised versions of the round's schemes."""
    return list(
        db.session.scalars(
            select(SchemeVersion)
            .join(Scheme, SchemeVersion.scheme_id == Scheme.id)
            .where(Scheme.round_id == round_.id, SchemeVersion.revision.is_(True))
            .order_by(Scheme.label, SchemeVersion.number)
        )
    )


def comment_counts(round_: Round) -> dict[int, tuple[int, int]]:
    """Item id → (comments, of which answered)."""
    rows = db.session.execute(
        select(SchemeComment.item_id, func.count(SchemeComment.id), func.count(CommentAnswer.id))
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == SchemeComment.id)
        .where(SchemeComment.round_id == round_.id)
        .group_by(SchemeComment.item_id)
    ).all()
    return {item_id: (total, answered) for item_id, total, answered in rows}


#: what showing a dwelling's place needs: its unit and building
PLACE = (selectinload(Dwelling.unit).selectinload(StairUnit.building),)


def comments_query(round_: Round, item_id: int | None = None, unanswered: bool = False) -> Select[Any]:
    """The comments of a round for the workers' list, by scheme and item; optionally of one item, or only
    those without an answer yet."""
    query = (
        select(SchemeComment)
        .join(SchemeItem, SchemeComment.item_id == SchemeItem.id)
        .join(SchemeVersion, SchemeItem.version_id == SchemeVersion.id)
        .join(Scheme, SchemeVersion.scheme_id == Scheme.id)
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == SchemeComment.id)
        .where(SchemeComment.round_id == round_.id)
        .order_by(Scheme.label, SchemeItem.position, SchemeItem.id, SchemeComment.id)
        .options(
            selectinload(SchemeComment.answer),
            selectinload(SchemeComment.item)
            .selectinload(SchemeItem.version)
            .selectinload(SchemeVersion.scheme),
            selectinload(SchemeComment.revised_in).selectinload(SchemeVersion.scheme),
            selectinload(SchemeComment.owner).selectinload(Owner.dwellings).options(*PLACE),
            selectinload(SchemeComment.occupant).selectinload(Occupant.dwelling).options(*PLACE),
        )
    )
    if item_id is not None:
        query = query.where(SchemeComment.item_id == item_id)
    if unanswered:
        query = query.where(CommentAnswer.id.is_(None))
    return query


def comment_author_place(comment: SchemeComment) -> list[Dwelling]:
    """The dwellings a comment speaks for (for workers only; never on a public page)."""
    if comment.occupant is not None:
        return [comment.occupant.dwelling]
    if comment.owner is not None:
        return list(comment.owner.dwellings)
    return []


def preference_tally(round_: Round) -> list[tuple[Scheme, int]]:
    """Each alternative with the number of dwellings whose latest preference names it."""
    schemes = schemes_of(round_)
    labels = db.session.scalars(
        select(Scheme.label)
        .join(SchemePreference, SchemePreference.scheme_id == Scheme.id)
        .where(SchemePreference.round_id == round_.id)
    )
    counts = tally(labels, [s.label for s in schemes])
    return [(s, counts[s.label]) for s in schemes]


# --- the round engine's hooks


def answered_dwellings(round_: Round) -> set[int]:
    """Dwellings that took part: a preference stated for it, or a comment by its owner or an occupant."""
    preferred = select(SchemePreference.dwelling_id.label("id")).where(SchemePreference.round_id == round_.id)
    by_owners = (
        select(Dwelling.id.label("id"))
        .join(SchemeComment, SchemeComment.owner_id == Dwelling.owner_id)
        .where(SchemeComment.round_id == round_.id)
    )
    by_occupants = (
        select(Occupant.dwelling_id.label("id"))
        .join(SchemeComment, SchemeComment.occupant_id == Occupant.id)
        .where(SchemeComment.round_id == round_.id)
    )
    return set(db.session.scalars(select(union(preferred, by_owners, by_occupants).subquery().c.id)))


def publish_blocker(round_: Round) -> Any:
    """None when the round's answers may be published; else why not (see ``rules.answer_blocker``)."""
    rows = db.session.execute(
        select(CommentAnswer.outcome, SchemeComment.revised_in_id)
        .select_from(SchemeComment)
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == SchemeComment.id)
        .where(SchemeComment.round_id == round_.id)
    ).all()
    blocked = answer_blocker(CommentFacts(outcome, revised is not None) for outcome, revised in rows)
    if blocked is None and _panel_scoring(round_):
        return _l(
            "The expert panel is still scoring: the answers show its result, so it closes first (its chair"
            " or a district reviewer closes it)."
        )
    return blocked


def _panel_scoring(round_: Round) -> bool:
    """Whether the round has an expert panel that has not closed."""
    from consult.experts.services import panel_of  # the experts area builds on this one's schemes

    panel = panel_of(round_)
    return panel is not None and not panel.closed


def register_with_engine() -> None:
    """Plug round 2's content into the round engine (called once by the application)."""
    register(RoundKind.SCHEME, answered=answered_dwellings, answer_blocker=publish_blocker)


# --- workers: schemes, versions, items, documents


def _scheme_round(round_: Round) -> None:
    if round_.kind is not RoundKind.SCHEME:
        raise NotFound("not a round of schemes")


def _editable(version: SchemeVersion) -> None:
    if not version_editable(version.scheme.round.state, version.revision):
        raise SchemeRefused(_l("This version can no longer change."))


def add_scheme(round_: Round, title: str, actor: str, note: str = "") -> Scheme:
    """A new alternative with its (empty) first version, while the round is a draft."""
    _scheme_round(round_)
    if not may_add_scheme(round_.state):
        raise SchemeRefused(_l("Schemes are added while the round is still a draft."))
    title = title.strip()
    if not title:
        raise SchemeRefused(_l("Give the scheme a title."))
    label = next_label(set(db.session.scalars(select(Scheme.label).where(Scheme.round_id == round_.id))))
    if label is None:
        raise SchemeRefused(_l("A round has at most 26 schemes."))
    scheme = Scheme(round_id=round_.id, label=label, title=title, created_by=actor)
    scheme.versions.append(SchemeVersion(number=1, revision=False, note=note.strip(), created_by=actor))
    db.session.add(scheme)
    db.session.flush()
    record(actor, "scheme.added", round_.compound_id, round=round_.id, scheme=label, title=title)
    return scheme


def remove_scheme(scheme: Scheme, actor: str) -> list[str]:
    """Delete an alternative while the round is a draft; returns the stored files it named (the caller
    offers them to ``forget_files`` once the deletion is committed)."""
    round_ = scheme.round
    if not may_add_scheme(round_.state):
        raise SchemeRefused(_l("Schemes are removed only while the round is still a draft."))
    files = [d.stored_name for v in scheme.versions for d in v.documents]
    label = scheme.label
    db.session.delete(scheme)
    db.session.flush()
    record(actor, "scheme.removed", round_.compound_id, round=round_.id, scheme=label)
    return files


def set_note(version: SchemeVersion, note: str, actor: str) -> None:
    _editable(version)
    version.note = note.strip()
    db.session.flush()
    record(actor, "scheme.note_changed", version.scheme.round.compound_id, version=version.id)


def add_item(version: SchemeVersion, title: str, description: str, actor: str) -> SchemeItem:
    _editable(version)
    title = title.strip()
    if not title:
        raise SchemeRefused(_l("Give the item a title."))
    position = max((i.position for i in version.items), default=0) + 1
    item = SchemeItem(position=position, title=title, description=description.strip())
    version.items.append(item)
    db.session.flush()
    record(actor, "scheme.item_added", version.scheme.round.compound_id, version=version.id, item=item.id)
    return item


def update_item(item: SchemeItem, title: str, description: str, actor: str) -> None:
    _editable(item.version)
    title = title.strip()
    if not title:
        raise SchemeRefused(_l("Give the item a title."))
    item.title, item.description = title, description.strip()
    db.session.flush()
    record(actor, "scheme.item_changed", item.version.scheme.round.compound_id, item=item.id)


def remove_item(item: SchemeItem, actor: str) -> None:
    version = item.version
    _editable(version)
    has_comments = db.session.scalar(
        select(SchemeComment.id).where(SchemeComment.item_id == item.id).limit(1)
    )
    if has_comments is not None:
        raise SchemeRefused(_l("Residents commented on this item: it stays."))
    version.items.remove(item)
    db.session.flush()
    record(actor, "scheme.item_removed", version.scheme.round.compound_id, version=version.id, item=item.id)


def add_document(
    version: SchemeVersion, data: bytes, filename: str, actor: str, now: datetime
) -> SchemeDocument:
    """Check the file by its content (``uploads.check_upload``), store it, and list it with the version."""
    _editable(version)
    checked = uploads.check_upload(data, uploads.max_bytes(), uploads.max_pixels())
    stored = uploads.store(checked)
    document = SchemeDocument(
        kind=checked.kind,
        filename=uploads.display_name(filename, checked.kind),
        stored_name=stored,
        size=len(checked.data),
        sha256=checked.sha256,
        width=checked.width,
        height=checked.height,
        uploaded_at=now,
        uploaded_by=actor,
    )
    version.documents.append(document)
    db.session.flush()
    record(
        actor,
        "scheme.document_added",
        version.scheme.round.compound_id,
        version=version.id,
        document=document.id,
        kind=checked.kind.value,
        size=document.size,
        sha256=document.sha256,
    )
    return document


def remove_document(document: SchemeDocument, actor: str) -> str:
    """Take a document off an editable version; returns its stored name for ``forget_files``."""
    version = document.version
    _editable(version)
    version.documents.remove(document)
    db.session.flush()
    record(
        actor,
        "scheme.document_removed",
        version.scheme.round.compound_id,
        version=version.id,
        sha256=document.sha256,
    )
    return document.stored_name


def forget_files(stored_names: list[str]) -> None:
    """Delete stored files no document names any more. Call after the commit that dropped them (a
    rolled-back deletion must still find its file)."""
    for name in stored_names:
        if (
            db.session.scalar(select(SchemeDocument.id).where(SchemeDocument.stored_name == name).limit(1))
            is None
        ):
            uploads.discard(name)


def _copy_into(target: SchemeVersion, source: SchemeVersion) -> None:
    for item in source.items:
        target.items.append(
            SchemeItem(
                position=item.position,
                title=item.title,
                description=item.description,
                derived_from_id=item.id,
            )
        )
    for doc in source.documents:
        target.documents.append(
            SchemeDocument(
                kind=doc.kind,
                filename=doc.filename,
                stored_name=doc.stored_name,
                size=doc.size,
                sha256=doc.sha256,
                width=doc.width,
                height=doc.height,
                uploaded_at=doc.uploaded_at,
                uploaded_by=doc.uploaded_by,
            )
        )


def revise(scheme: Scheme, actor: str, now: datetime, note: str = "") -> SchemeVersion:
    """The revised version of a scheme, in the down phase: a copy of the latest version to be changed,
    which takes up the scheme's comments already answered as adopted or partly adopted."""
    round_ = scheme.round
    if not may_revise(round_.state):
        raise SchemeRefused(
            _l("A revised version is written after the round closes and before its answers are published.")
        )
    if scheme.revision is not None:
        raise SchemeRefused(_l("This scheme has a revised version already: change that one."))
    base = scheme.latest
    version = SchemeVersion(
        number=base.number + 1,
        revision=True,
        note=note.strip(),
        based_on_id=base.id,
        created_at=now,
        created_by=actor,
    )
    scheme.versions.append(version)
    _copy_into(version, base)
    db.session.flush()
    waiting = db.session.scalars(
        select(SchemeComment)
        .join(CommentAnswer, CommentAnswer.comment_id == SchemeComment.id)
        .join(SchemeItem, SchemeComment.item_id == SchemeItem.id)
        .join(SchemeVersion, SchemeItem.version_id == SchemeVersion.id)
        .where(
            SchemeComment.round_id == round_.id,
            SchemeVersion.scheme_id == scheme.id,
            SchemeComment.revised_in_id.is_(None),
            CommentAnswer.outcome.in_([AnswerOutcome.ADOPTED, AnswerOutcome.PARTLY]),
        )
    ).all()
    for comment in waiting:
        comment.revised_in = version
    db.session.flush()
    record(
        actor,
        "scheme.revised",
        round_.compound_id,
        round=round_.id,
        scheme=scheme.label,
        version=version.number,
        takes_up=[c.id for c in waiting],
    )
    return version


def carry_over(round_: Round, actor: str) -> list[Scheme]:
    """A repeated round starts from the schemes of the attempt that failed: the latest version of each
    becomes the first version of the same alternative here (still a draft, to be changed)."""
    _scheme_round(round_)
    if round_.repeat_of_id is None:
        raise SchemeRefused(_l("This round repeats no earlier attempt."))
    if not may_add_scheme(round_.state):
        raise SchemeRefused(_l("Schemes are added while the round is still a draft."))
    if db.session.scalar(select(Scheme.id).where(Scheme.round_id == round_.id).limit(1)) is not None:
        raise SchemeRefused(_l("This round has schemes already."))
    failed = db.session.get(Round, round_.repeat_of_id)
    assert failed is not None
    copies = []
    for old in schemes_of(failed):
        base = old.latest
        scheme = Scheme(round_id=round_.id, label=old.label, title=old.title, created_by=actor)
        first = SchemeVersion(number=1, revision=False, note=base.note, based_on_id=base.id, created_by=actor)
        scheme.versions.append(first)
        _copy_into(first, base)
        db.session.add(scheme)
        copies.append(scheme)
    db.session.flush()
    record(
        actor,
        "scheme.carried_over",
        round_.compound_id,
        round=round_.id,
        source=failed.id,
        schemes=len(copies),
    )
    return copies


# --- residents: comments and preferences


def _may_take_part(invitation: Invitation, round_: Round, now: datetime) -> None:
    if round_.compound_id != invitation.compound_id or round_.kind is not RoundKind.SCHEME:
        raise NotFound("no such round")
    if not is_open_for_input(round_.state, round_.opens_at, round_.closes_at, now):
        raise SchemeRefused(_l("This round is not open for comments now."))
    if not has_acknowledged_privacy(invitation):
        raise SchemeRefused(_l("Please read how we use your information first, on your home page."))


def add_comment(invitation: Invitation, item: SchemeItem, body: str, now: datetime) -> SchemeComment:
    """A resident's comment on an item of a scheme's first version, while the round is open."""
    version = item.version
    round_ = version.scheme.round
    _may_take_part(invitation, round_, now)
    if version.revision or version.number != 1:
        raise NotFound("comments are given on the first version")
    problem = comment_problem(body)
    if problem:
        raise SchemeRefused(problem)
    comment = SchemeComment(
        round_id=round_.id,
        item_id=item.id,
        owner_id=invitation.owner_id,
        occupant_id=invitation.occupant_id,
        author_role=AuthorRole.OWNER if invitation.owner_id is not None else AuthorRole.OCCUPANT,
        body=body.strip(),
        created_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    record(
        resident_actor(invitation),
        "scheme.commented",
        round_.compound_id,
        round=round_.id,
        comment=comment.id,
    )
    return comment


def state_preference(invitation: Invitation, scheme: Scheme, now: datetime) -> list[SchemePreference]:
    """The household prefers ``scheme``: one preference per dwelling (each of an owner's dwellings),
    replacing any earlier one; the latest counts."""
    round_ = scheme.round
    _may_take_part(invitation, round_, now)
    alternatives = db.session.scalar(select(func.count(Scheme.id)).where(Scheme.round_id == round_.id))
    if (alternatives or 0) < 2:
        raise SchemeRefused(_l("There is only one scheme: there is nothing to choose between."))
    stated = []
    for dwelling in person_of(invitation).dwellings:
        preference = _preference(round_.id, dwelling.id)
        if preference is None:
            try:
                with db.session.begin_nested():
                    preference = SchemePreference(
                        round_id=round_.id, dwelling_id=dwelling.id, scheme_id=scheme.id, stated_at=now
                    )
                    db.session.add(preference)
            except IntegrityError:  # stated at the same moment by someone else of the household
                preference = _preference(round_.id, dwelling.id)
                assert preference is not None
        preference.scheme_id, preference.stated_at = scheme.id, now
        stated.append(preference)
    db.session.flush()
    # which alternative is not logged: only the household sees its own preference
    record(resident_actor(invitation), "scheme.preference_stated", round_.compound_id, round=round_.id)
    return stated


def _preference(round_id: int, dwelling_id: int) -> SchemePreference | None:
    return db.session.scalars(
        select(SchemePreference).where(
            SchemePreference.round_id == round_id, SchemePreference.dwelling_id == dwelling_id
        )
    ).first()


def _own(invitation: Invitation) -> Any:
    if invitation.owner_id is not None:
        return SchemeComment.owner_id == invitation.owner_id
    return SchemeComment.occupant_id == invitation.occupant_id


def own_comments(invitation: Invitation, round_: Round) -> dict[int, list[SchemeComment]]:
    """The resident's own comments in the round, by item id."""
    comments = db.session.scalars(
        select(SchemeComment)
        .where(SchemeComment.round_id == round_.id, _own(invitation))
        .order_by(SchemeComment.id)
        .options(selectinload(SchemeComment.answer), selectinload(SchemeComment.revised_in))
    )
    by_item: dict[int, list[SchemeComment]] = defaultdict(list)
    for comment in comments:
        by_item[comment.item_id].append(comment)
    return by_item


def household_preference(invitation: Invitation, round_: Round) -> SchemePreference | None:
    """The latest preference stated for the resident's (first) dwelling."""
    dwellings = [d.id for d in person_of(invitation).dwellings]
    return db.session.scalars(
        select(SchemePreference)
        .where(SchemePreference.round_id == round_.id, SchemePreference.dwelling_id.in_(dwellings))
        .order_by(SchemePreference.stated_at.desc(), SchemePreference.id.desc())
        .limit(1)
    ).first()


def took_part(invitation: Invitation, round_: Round) -> bool:
    """The resident commented, or a preference is stated for their household."""
    commented = db.session.scalar(
        select(SchemeComment.id).where(SchemeComment.round_id == round_.id, _own(invitation)).limit(1)
    )
    return commented is not None or household_preference(invitation, round_) is not None


RESIDENT_STATES = (RoundState.OPEN, RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE)


def resident_rounds(invitation: Invitation, rounds: Sequence[Round] | None = None) -> list[Round]:
    """The compound's rounds of schemes a resident may look at (open or past, not a failed attempt), of
    ``rounds`` (the compound's rounds in order) when they are at hand."""
    if rounds is None:
        rounds = compound_rounds(invitation.compound_id)
    return [r for r in rounds if r.kind is RoundKind.SCHEME and r.state in RESIDENT_STATES]


def resident_links(
    invitation: Invitation, now: datetime, rounds: Sequence[Round] | None = None
) -> list[tuple[str, str, bool, bool]]:
    """For the resident's home page: (label, url, done, open) for each round of schemes they may look at;
    ``done`` once they commented or their household stated a preference; ``open`` while the round takes
    comments (a closed round is still there to read, and its answers once published)."""
    links = []
    for round_ in resident_rounds(invitation, rounds):
        url = url_for("schemes.resident_round", round_id=round_.id)
        if is_open_for_input(round_.state, round_.opens_at, round_.closes_at, now):
            label = _("Round %(number)s: comment on the design schemes", number=round_.number)
            links.append((label, url, took_part(invitation, round_), True))
        elif round_.state in PUBLISHED:
            label = _(
                "Round %(number)s: the revised scheme and the answers to comments", number=round_.number
            )
            links.append((label, url, took_part(invitation, round_), False))
        else:
            label = _("Round %(number)s: the design schemes (closed for comments)", number=round_.number)
            links.append((label, url, took_part(invitation, round_), False))
    return links


@dataclass(frozen=True)
class MyAnswer:
    """A resident's own comment and the answer it got, for their home page."""

    round_number: int
    scheme_label: str
    item_title: str
    comment: str
    outcome: AnswerOutcome
    reason: str
    answered_at: datetime
    #: the revised version that takes the comment up ("Scheme A, version 2"), if any
    taken_up_in: str | None
    url: str

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])


def my_answers(invitation: Invitation) -> list[MyAnswer]:
    """The answers to the resident's own comments in their compound, the latest first."""
    comments = db.session.scalars(
        select(SchemeComment)
        .join(CommentAnswer, CommentAnswer.comment_id == SchemeComment.id)
        .join(Round, SchemeComment.round_id == Round.id)
        .where(Round.compound_id == invitation.compound_id, _own(invitation))
        .order_by(CommentAnswer.answered_at.desc(), SchemeComment.id.desc())
        .options(
            selectinload(SchemeComment.answer),
            selectinload(SchemeComment.round),
            selectinload(SchemeComment.item)
            .selectinload(SchemeItem.version)
            .selectinload(SchemeVersion.scheme),
            selectinload(SchemeComment.revised_in).selectinload(SchemeVersion.scheme),
        )
    ).all()
    answers = []
    for comment in comments:
        answer = comment.answer
        assert answer is not None
        answers.append(
            MyAnswer(
                round_number=comment.round.number,
                scheme_label=comment.item.version.scheme.label,
                item_title=comment.item.title,
                comment=comment.body,
                outcome=answer.outcome,
                reason=answer.reason,
                answered_at=answer.answered_at,
                taken_up_in=(
                    version_name(comment.revised_in.scheme.label, comment.revised_in.number)
                    if comment.revised_in
                    else None
                ),
                url=url_for(
                    "schemes.resident_round", round_id=comment.round_id, _anchor=f"comment-{comment.id}"
                ),
            )
        )
    return answers


# --- workers: answers


def answer_comment(
    comment: SchemeComment,
    outcome: AnswerOutcome | str,
    reason: str,
    user: User,
    now: datetime,
    version: SchemeVersion | None = None,
) -> CommentAnswer:
    """Answer a comment (or correct its answer) while the round is closed, and tell its author.

    An adopted or partly adopted comment is taken up by ``version`` if given (a revision of this round,
    perhaps of another scheme), else by its own scheme's revised version (or by none until that is
    written: ``revise`` then links it); a comment not adopted is taken up by none.

    The author, if they left an address, gets a ``comment_answered`` notice in the same transaction
    (once per outcome: re-saving the same answer sends nothing new).
    """
    round_ = comment.round
    if not may_answer(round_.state):
        raise SchemeRefused(
            _l("Comments are answered after the round closes and before its answers are published.")
        )
    problem = answer_problem(outcome, reason)
    if problem:
        raise SchemeRefused(problem)
    outcome = AnswerOutcome(outcome)
    if version is not None and (not version.revision or version.scheme.round_id != round_.id):
        raise SchemeRefused(_l("Choose a revised version of this round."))
    answer = comment.answer
    if answer is None:
        answer = CommentAnswer(comment_id=comment.id, outcome=outcome, reason="", answered_by_id=user.id)
        db.session.add(answer)
        comment.answer = answer
    answer.outcome, answer.reason = outcome, reason.strip()
    answer.answered_by_id, answer.answered_at = user.id, now
    if not needs_revision(outcome):
        comment.revised_in = None
    elif version is not None:
        comment.revised_in = version
    else:
        comment.revised_in = comment.item.version.scheme.revision
    db.session.flush()
    record(
        f"user:{user.id}",
        "scheme.comment_answered",
        round_.compound_id,
        round=round_.id,
        comment=comment.id,
        outcome=outcome.value,
        taken_up_in=comment.revised_in_id,
    )
    author = comment.owner or comment.occupant
    if author is not None:
        enqueue_to(
            author,
            "comment_answered",
            {
                "compound": round_.compound.name,
                "outcome": outcome.value,
                "path": site_path("schemes.resident_round", round_id=round_.id),
            },
            dedupe_key=f"comment:{comment.id}:{outcome.value}",
            now=now,
        )
    return answer


# --- the public page


@dataclass(frozen=True)
class PublicComment:
    """A comment as the public sees it: its words and its answer, nothing about who wrote it."""

    body: str
    outcome: AnswerOutcome | None
    reason: str
    taken_up_in: str | None

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome]) if self.outcome else ""


def public_comments(round_: Round) -> dict[int, list[PublicComment]]:
    """Every comment of the round with its answer, by item id, stripped of its author."""
    rows = db.session.execute(
        select(
            SchemeComment.item_id,
            SchemeComment.body,
            CommentAnswer.outcome,
            CommentAnswer.reason,
            Scheme.label,
            SchemeVersion.number,
        )
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == SchemeComment.id)
        .outerjoin(SchemeVersion, SchemeComment.revised_in_id == SchemeVersion.id)
        .outerjoin(Scheme, SchemeVersion.scheme_id == Scheme.id)
        .where(SchemeComment.round_id == round_.id)
        .order_by(SchemeComment.id)
    ).all()
    by_item: dict[int, list[PublicComment]] = defaultdict(list)
    for item_id, body, outcome, reason, label, number in rows:
        taken_up = version_name(label, number) if label else None
        by_item[item_id].append(PublicComment(body, outcome, reason or "", taken_up))
    return by_item
