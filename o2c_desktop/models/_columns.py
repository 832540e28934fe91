"""Column helpers so every table spells enums, codes and money the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum

if TYPE_CHECKING:
    from enum import StrEnum


def enum_column(enum: type[StrEnum]) -> Enum:
    """A portable enum column: VARCHAR storing the enum's value."""
    return Enum(
        enum,
        native_enum=False,
        length=24,
        values_callable=_values,
        validate_strings=True,
        create_constraint=False,
    )


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]
