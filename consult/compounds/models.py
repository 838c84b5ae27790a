"""Where people live: district → street → compound → building → stairwell unit → dwelling, and who owns it."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.crypto import EncryptedString
from consult.db import utcnow
from consult.extensions import db


def str_enum(enum_cls: type[enum.Enum]) -> Enum:
    """A portable enum column that stores the member values (not names) as short strings."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class District(db.Model):
    """区: the district whose renewal bureau runs the programme."""

    __tablename__ = "district"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    streets: Mapped[list[Street]] = relationship(back_populates="district", order_by="Street.name")
    clusters: Mapped[list[Cluster]] = relationship(back_populates="district")


class Street(db.Model):
    """街道: a sub-district; community workers belong to one."""

    __tablename__ = "street"
    __table_args__ = (UniqueConstraint("district_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[District] = relationship(back_populates="streets")
    compounds: Mapped[list[Compound]] = relationship(back_populates="street")


class Cluster(db.Model):
    """片区: neighbouring compounds renovated together."""

    __tablename__ = "cluster"
    __table_args__ = (UniqueConstraint("district_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[District] = relationship(back_populates="clusters")
    compounds: Mapped[list[Compound]] = relationship(back_populates="cluster")


class Compound(db.Model):
    """小区/院落: one residential compound, the unit of a consultation."""

    __tablename__ = "compound"
    __table_args__ = (
        UniqueConstraint("street_id", "name"),
        CheckConstraint("year_built IS NULL OR year_built BETWEEN 1900 AND 2100", name="year_built"),
        CheckConstraint("plan_year IS NULL OR plan_year BETWEEN 2000 AND 2100", name="plan_year"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    year_built: Mapped[int | None]
    plan_year: Mapped[int | None]
    #: 院委会/业委会: the residents' committee's name, or None while none is formed.
    committee: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when ``flask purge`` removed its residents' personal data (retention period over); None before
    purged_at: Mapped[datetime | None]
    #: grows with every committed change its residents' pages may show (``compounds.versions``)
    content_version: Mapped[int] = mapped_column(default=0, server_default="0")

    street: Mapped[Street] = relationship(back_populates="compounds")
    cluster: Mapped[Cluster | None] = relationship(back_populates="compounds")
    buildings: Mapped[list[Building]] = relationship(
        back_populates="compound", cascade="all, delete-orphan", order_by="Building.sort_key"
    )
    owners: Mapped[list[Owner]] = relationship(back_populates="compound", cascade="all, delete-orphan")


class Building(db.Model):
    """栋/幢: a building of a compound, by its label ("1", "A")."""

    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("compound_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    #: label padded so that "2" sorts before "10"
    sort_key: Mapped[str] = mapped_column(String(60))
    compound: Mapped[Compound] = relationship(back_populates="buildings")
    units: Mapped[list[StairUnit]] = relationship(
        back_populates="building", cascade="all, delete-orphan", order_by="StairUnit.sort_key"
    )


class StairUnit(db.Model):
    """单元: a stairwell unit of a building; a lift is decided per unit."""

    __tablename__ = "stair_unit"
    __table_args__ = (UniqueConstraint("building_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    sort_key: Mapped[str] = mapped_column(String(60))
    building: Mapped[Building] = relationship(back_populates="units")
    dwellings: Mapped[list[Dwelling]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="Dwelling.sort_key"
    )


class Dwelling(db.Model):
    """专有部分: one flat, with its floor area (建筑面积) in m², exact to 0.01."""

    __tablename__ = "dwelling"
    __table_args__ = (
        UniqueConstraint("unit_id", "room"),
        CheckConstraint("area > 0", name="area_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("stair_unit.id"), index=True)
    room: Mapped[str] = mapped_column(String(40))
    sort_key: Mapped[str] = mapped_column(String(60))
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2, asdecimal=True))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"), index=True)

    unit: Mapped[StairUnit] = relationship(back_populates="dwellings")
    owner: Mapped[Owner | None] = relationship(back_populates="dwellings")
    occupants: Mapped[list[Occupant]] = relationship(
        back_populates="dwelling", cascade="all, delete-orphan", order_by="Occupant.id"
    )


class OwnerKind(enum.StrEnum):
    PERSON = "person"
    #: unsold units held by the developer count as one owner
    DEVELOPER = "developer"


class Owner(db.Model):
    """业主: a registered owner of one or more dwellings in a compound; casts legal votes.

    Co-owners of a dwelling name one voter: ``name`` is that voter, ``co_owners`` the others.
    Dwellings that share an owner key (业主编号) belong to one owner; names alone never merge owners.
    """

    __tablename__ = "owner"
    __table_args__ = (UniqueConstraint("compound_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    key: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[OwnerKind] = mapped_column(str_enum(OwnerKind), default=OwnerKind.PERSON)
    name: Mapped[str] = mapped_column(String(100))
    co_owners: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(EncryptedString)  # encrypted at rest
    email: Mapped[str | None] = mapped_column(EncryptedString)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    #: grows with every committed ballot of this owner, and of owners whose proxy they hold
    #: (``compounds.versions``)
    content_version: Mapped[int] = mapped_column(default=0, server_default="0")

    compound: Mapped[Compound] = relationship(back_populates="owners")
    dwellings: Mapped[list[Dwelling]] = relationship(back_populates="owner")


class Occupant(db.Model):
    """租户/使用人: a tenant or other occupant; may answer surveys and comment, never votes."""

    __tablename__ = "occupant"
    __table_args__ = (UniqueConstraint("dwelling_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(ForeignKey("dwelling.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(EncryptedString)  # encrypted at rest
    email: Mapped[str | None] = mapped_column(EncryptedString)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    dwelling: Mapped[Dwelling] = relationship(back_populates="occupants")
