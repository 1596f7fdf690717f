"""The 五大员 duties a checked-in member holds, stored as comma-separated keys (`Member.duties`)."""

from sqlalchemy import literal

from app.models import Member
from app.models.choices import MEMBER_DUTY_LABELS


def holds_duty(duty: str):
    """SQL: the member holds `duty` among their others — ",a,b," contains ",duty," (LIKE with its wildcards
    escaped: the keys hold underscores), the same on SQLite and PostgreSQL."""
    if duty not in MEMBER_DUTY_LABELS:
        raise ValueError(f"unknown duty {duty!r}")
    return (literal(",") + Member.duties + literal(",")).contains(f",{duty},", autoescape=True)


def duty_keys(text: str | None) -> list[str]:
    """The duty keys of a stored value, in their stored order."""
    return [key for key in (text or "").split(",") if key]
