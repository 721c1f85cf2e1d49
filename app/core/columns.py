"""Column types every table module shares (app/models.py and the domains' own tables)."""

from sqlalchemy import Enum


def string_enum(cls):
    """An enum stored as plain strings (no native ENUM), so adding a value is a data change,
    not DDL."""
    return Enum(cls, native_enum=False, length=32, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])
