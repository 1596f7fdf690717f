"""Areas: the levels of the district's tree and the digits of their codes."""

from flask_babel import lazy_gettext as _l

from app.models.choices.base import Labelled

__all__ = ["AREA_CODE_LENGTH", "AREA_LEVEL_LABELS", "AREA_PARENT_LEVEL", "AreaLevel"]


class AreaLevel(Labelled):
    DISTRICT = "district", _l("District")
    STREET = "street", _l("Street")
    COMMUNITY = "community", _l("Community")
    GRID = "grid", _l("Grid")


AREA_LEVEL_LABELS = AreaLevel.labels()

# digits in a full area code at each level: 6, then +3 per level
AREA_CODE_LENGTH = {
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
}

AREA_PARENT_LEVEL = {
    AreaLevel.STREET: AreaLevel.DISTRICT,
    AreaLevel.COMMUNITY: AreaLevel.STREET,
    AreaLevel.GRID: AreaLevel.COMMUNITY,
}
