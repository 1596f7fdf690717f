"""What every closed vocabulary shares: members that carry their display label, and the database check."""

from enum import StrEnum

from sqlalchemy import CheckConstraint

__all__ = ["Labelled", "choice_check", "choices"]


class Labelled(StrEnum):
    """A closed vocabulary whose members carry their label: `SUBMITTED = "submitted", _l("Awaiting review")`.

    Members are strings (their value), as stored in the database; `labels()` maps each to its label.
    """

    label: object

    def __new__(cls, value: str, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict:
        """{member: label}, in declaration order."""
        return {member: member.label for member in cls}


def choice_check(column: str, values) -> CheckConstraint:
    """A check constraint that keeps `column` inside a closed vocabulary."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


def choices(labels: dict) -> list[tuple[str, object]]:
    """(value, label) pairs for a select field."""
    return [(str(k), v) for k, v in labels.items()]
