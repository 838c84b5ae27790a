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
from consult.notify.models import OutboxMessage
from consult.notify.models import Unsubscribe
from consult.residents.models import Invitation
from consult.residents.models import PrivacyAcknowledgement
from consult.roster.models import RosterImport
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent

__all__ = [
    "AuditEntry",
    "Building",
    "Cluster",
    "Compound",
    "District",
    "Dwelling",
    "Invitation",
    "Occupant",
    "OutboxMessage",
    "Owner",
    "OwnerKind",
    "PrivacyAcknowledgement",
    "Role",
    "RosterImport",
    "Round",
    "RoundEvent",
    "StairUnit",
    "Street",
    "Unsubscribe",
    "User",
]
