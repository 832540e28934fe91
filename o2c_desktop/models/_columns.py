"""Column helpers so every table spells enums, codes and money the same way."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


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
