"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database.

    PostgreSQL keeps the zone (timestamptz); SQLite keeps none, so values are
    stored as UTC and read back with the UTC zone attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def string_enum(enum_class: type[enum.Enum]) -> SAEnum:
    """An enum column stored as plain strings, so adding a value needs no ALTER TYPE."""
    return SAEnum(
        enum_class,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


# A schema object's ``info`` key naming the one database it is built on (with ``ddl_if``).
ONLY_ON = "only_on"


def include_on(dialect: str):
    """Alembic's ``include_object`` for comparing the models with a ``dialect`` database:
    leaves out what the models build on another database only."""

    def include(item, _name, _type, _reflected, _compare_to) -> bool:
        return getattr(item, "info", {}).get(ONLY_ON, dialect) == dialect

    return include
