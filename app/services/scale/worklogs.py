"""Half a year of grid work logs for the synthetic district (bulk rows), signed by each grid's captain and leader.

Each grid's worker writes an entry every one to five days back from `as_of`; about one grid in twenty has
gone quiet (its last entry WORKLOG_STALE_DAYS or more ago). An entry more than three days old carries both
signatures (the grid's captain — its first member — and its leader, the community's account), a newer one
awaits them, some with the captain's only. Grids with no captain's account keep their entries awaiting.
"""

import random
from datetime import date, datetime, timedelta
from functools import lru_cache

from app.models.worklogs import SignStatus, WorkLog
from app.services.clock import day_start

DAYS = 183
QUIET_SHARE = 0.05
CONTENTS = (
    "走访辖区独居老人，了解生活需求。",
    "排查楼道堆物和消防通道，督促清理。",
    "组织楼栋长例会，通报微心愿认领情况。",
    "入户核实新入住家庭信息。",
    "协助处理邻里噪音纠纷，双方达成谅解。",
    "巡查小区公共设施，上报路灯损坏一处。",
    "宣传防诈骗知识，发放宣传资料。",
    "配合社区开展环境卫生整治。",
)


@lru_cache(maxsize=512)
def _evening(day: date) -> datetime:
    """18:00 of the district's `day`, in UTC: when the day's entry is written."""
    return day_start(day) + timedelta(hours=18)


def build_worklogs(writer, grids: list, staff, members: list[dict], rng: random.Random, as_of: date) -> int:
    """`grids`: (grid, community) pairs; `members`: the planned member rows (the first of a grid is its
    captain, as app/services/scale/teams.py makes them). Returns how many entries were written."""
    captain_of: dict[str, int | None] = {}
    for member in members:
        captain_of.setdefault(member["grid_code"], member.get("user_id"))
    written = 0
    for grid, community in grids:
        author = staff.grids.get(grid.code)
        captain, leader = captain_of.get(grid.code), staff.communities.get(community.code)
        quiet = rng.random() < QUIET_SHARE
        day = as_of - timedelta(days=rng.randint(8, 30) if quiet else rng.randint(0, 2))
        oldest = as_of - timedelta(days=DAYS)
        while day >= oldest:
            row = _row(writer, grid.code, day, author, captain, leader, rng, as_of)
            writer.add(WorkLog, row, counted=False)
            written += 1
            day -= timedelta(days=rng.randint(1, 5))
    return written


def _row(writer, grid_code, day, author, captain, leader, rng, as_of) -> dict:
    written_at = _evening(day)
    row = {
        "id": writer.new_id(WorkLog),
        "grid_code": grid_code,
        "log_date": day,
        "content": rng.choice(CONTENTS),
        "author_id": author,
        "status": SignStatus.AWAITING.value,
        "captain_signer_id": None,
        "captain_signed_at": None,
        "leader_signer_id": None,
        "leader_signed_at": None,
        "signed_at": None,
        "created_at": written_at,
        "updated_at": written_at,
    }
    age = (as_of - day).days
    if captain is None or leader is None or captain == leader:
        return row
    if age > 3 or rng.random() < 0.4:
        row["captain_signer_id"] = captain
        row["captain_signed_at"] = written_at + timedelta(hours=rng.randint(14, 40))
    if age > 3:
        row["leader_signer_id"] = leader
        row["leader_signed_at"] = row["captain_signed_at"] + timedelta(hours=rng.randint(1, 30))
        row["signed_at"] = row["updated_at"] = row["leader_signed_at"]
        row["status"] = SignStatus.SIGNED.value
    return row
