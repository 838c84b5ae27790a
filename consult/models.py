"""Every model of every domain area, for Alembic autogenerate and ``flask shell``."""

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.auth.models import User
from consult.compounds.models import Building
from consult.compounds.models import Cluster
from consult.compounds.models import Compound
from consult.compounds.models import District
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.compounds.models import StairUnit
from consult.compounds.models import Street
from consult.dossier.models import ConsensusRecord
from consult.dossier.models import RecordDecision
from consult.experts.models import ConflictDeclaration
from consult.experts.models import Criterion
from consult.experts.models import Panel
from consult.experts.models import PanelMember
from consult.experts.models import PanelOpinion
from consult.experts.models import PanelRemark
from consult.experts.models import PanelReopening
from consult.experts.models import Score
from consult.experts.models import Submission
from consult.notify.models import OutboxMessage
from consult.notify.models import Unsubscribe
from consult.residents.models import Invitation
from consult.residents.models import PrivacyAcknowledgement
from consult.roster.models import RosterImport
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.schemes.models import CommentAnswer
from consult.schemes.models import Scheme
from consult.schemes.models import SchemeComment
from consult.schemes.models import SchemeDocument
from consult.schemes.models import SchemeItem
from consult.schemes.models import SchemePreference
from consult.schemes.models import SchemeVersion
from consult.surveys.models import NeedDecision
from consult.surveys.models import Question
from consult.surveys.models import QuestionOption
from consult.surveys.models import Survey
from consult.surveys.models import SurveyAnswer
from consult.surveys.models import SurveyItem
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import PaperEntry
from consult.voting.models import PaperSheet
from consult.voting.models import Proxy
from consult.voting.models import VoteQuestion
from consult.voting.models import VotingSettings

__all__ = [
    "AuditEntry",
    "Ballot",
    "BallotReceipt",
    "Building",
    "Cluster",
    "CommentAnswer",
    "Compound",
    "ConflictDeclaration",
    "ConsensusRecord",
    "Criterion",
    "District",
    "Dwelling",
    "Invitation",
    "NeedDecision",
    "Occupant",
    "OutboxMessage",
    "Owner",
    "OwnerKind",
    "Panel",
    "PanelMember",
    "PanelOpinion",
    "PanelRemark",
    "PanelReopening",
    "PaperEntry",
    "PaperSheet",
    "PrivacyAcknowledgement",
    "Proxy",
    "Question",
    "QuestionOption",
    "RecordDecision",
    "Role",
    "RosterImport",
    "Round",
    "RoundEvent",
    "Scheme",
    "SchemeComment",
    "SchemeDocument",
    "SchemeItem",
    "SchemePreference",
    "SchemeVersion",
    "Score",
    "StairUnit",
    "Street",
    "Submission",
    "Survey",
    "SurveyAnswer",
    "SurveyItem",
    "Unsubscribe",
    "User",
    "VoteQuestion",
    "VotingSettings",
]
