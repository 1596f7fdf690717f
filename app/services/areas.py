"""Rules of the area tree: which code fits which level under which parent."""

from flask_babel import gettext as _

from app.models import Area
from app.models.choices import AREA_CODE_LENGTH, AREA_LEVEL_LABELS, AREA_PARENT_LEVEL


def area_code_problem(code: str, level: str, parent: Area | None) -> str | None:
    """Why `code` cannot be an area of `level` under `parent`, or None when it can."""
    length = AREA_CODE_LENGTH.get(level)
    if length is None:
        return _("Choose a level.")
    if not code.isdigit() or len(code) != length:
        return _("A %(level)s code has exactly %(n)d digits.", level=AREA_LEVEL_LABELS[level], n=length)
    parent_level = AREA_PARENT_LEVEL.get(level)
    if parent_level is None:
        return _("A district has no parent area.") if parent is not None else None
    if parent is None or parent.level != parent_level:
        return _(
            "A %(level)s lies under a %(parent)s; choose one as its parent.",
            level=AREA_LEVEL_LABELS[level],
            parent=AREA_LEVEL_LABELS[parent_level],
        )
    if not code.startswith(parent.code):
        return _("The code must start with its parent's code %(code)s.", code=parent.code)
    return None
