"""The demo's emergency call-up (社区吹哨、党员报到): an open call-up of 文汇社区, mustering in its first grid, that the
demo `member` and `captain` answer from their notifications (and check in at the muster point's QR code).

Through the service, as community staff would raise it; idempotent (nothing is added when it exists).
"""

from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.callups import Callup
from app.services import callups

COMMUNITY, GRID = "610404001001", "610404001001001"  # 文汇社区, its first grid (the muster grid)
TITLE = "寒潮应急：协助转移独居老人"


def seed_callups() -> None:
    """One open call-up to 文汇社区, raised by the demo `community` account."""
    staff = db.session.scalar(select(User).where(User.username == "community"))
    if (
        staff is None
        or db.session.scalar(select(Callup.id).where(Callup.title == TITLE).limit(1)) is not None
    ):
        return
    callups.raise_callup(
        staff,
        area_code=COMMUNITY,
        grid_code=GRID,
        title=TITLE,
        details="今晚气温骤降，需协助网格员逐户确认独居老人取暖情况，必要时护送至社区临时避寒点。",
        muster_point="文汇社区党群服务中心门口",
        needed=6,
        starts_at=utcnow(),
        hours=Decimal(2),
    )
