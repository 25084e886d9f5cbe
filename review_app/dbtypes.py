"""Column types shared by the models."""

import enum

import sqlalchemy as sa


def str_enum(enum_cls: type[enum.Enum], name: str, *, constrained: bool = True) -> sa.Enum:
    """Store a StrEnum as its value in a VARCHAR (with a CHECK constraint when ``constrained``).

    Non-native enums behave the same on SQLite and PostgreSQL and need no ALTER TYPE to grow.
    """
    return sa.Enum(enum_cls, native_enum=False, length=32 if not constrained else 16,
                   create_constraint=constrained, name=name,
                   values_callable=lambda e: [m.value for m in e])
