"""责任田, a year of household visits and units' monthly activities for the synthetic district (bulk rows).

Each member answers for one to three households of their grid; four in five keep every household visited
within the interval, the rest let one fall behind. Visits run back a year from `as_of`, every 14–40 days
(about 13 a household: ≈ 60,000 for Weicheng's 2,300 members). Units hold an activity in most months;
about one in eight skipped last month and is behind.
"""

import random
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import func, select

from app.models import Household
from app.models.visits import ActivityKind, HouseholdAssignment, HouseholdVisit, UnitActivity
from app.services.clock import day_start, month_start
from app.services.compliance import interval_days

NOTES = (
    "了解家庭近况，宣传社区活动安排。",
    "询问老人身体情况，提醒按时服药。",
    "宣传防诈骗知识，留下联系方式。",
    "了解孩子上学情况，登记困难需求。",
    "检查燃气使用安全，提醒关好阀门。",
    "征求对小区物业服务的意见。",
)
FINDINGS = (
    "楼道堆放杂物，已提醒清理。",
    "老人独居，需定期关注。",
    "厨房燃气软管老化，建议更换。",
    "希望社区组织健康义诊。",
)
ACTIVITIES = {
    ActivityKind.PARTY_DAY: "主题党日：重温入党誓词、学习党的理论",
    ActivityKind.CARING_VISIT: "走访慰问困难群众",
    ActivityKind.CIVILITY: "文明城市创建志愿服务",
    ActivityKind.SAFETY_CHECK: "小区安全隐患排查",
    ActivityKind.OTHER: "政策宣讲进社区",
}
ON_TIME_SHARE = 0.8
UNIT_BEHIND_SHARE = 0.125


def _moment(day: date, rng: random.Random) -> datetime:
    """A daytime moment of the district's `day`, in UTC (from the day's start, looked up once per day)."""
    return _day_start(day) + timedelta(hours=rng.randint(8, 18), minutes=rng.randrange(0, 60, 5))


@lru_cache(maxsize=1024)
def _day_start(day: date) -> datetime:
    return day_start(day)


def household_ranges(writer) -> dict[str, tuple[int, int]]:
    """(first, last) household id per grid: the generator gives each grid's households consecutive ids."""
    writer.flush()
    rows = writer.connection.execute(
        select(Household.grid_code, func.min(Household.id), func.max(Household.id)).group_by(
            Household.grid_code
        )
    )
    return {grid: (first, last) for grid, first, last in rows}


def build_visits(writer, members: list[dict], rng: random.Random, as_of: date) -> None:
    """责任田 assignments and a year of visits for every generated member."""
    interval = interval_days()
    ranges = household_ranges(writer)
    taken: set[int] = set()
    year_ago = as_of - timedelta(days=365)
    starts_on = as_of - timedelta(days=400)
    created = datetime.combine(starts_on, time(), tzinfo=UTC)
    for member in members:
        first, last = ranges.get(member["grid_code"], (None, None))
        if first is None:
            continue
        on_time = rng.random() < ON_TIME_SHARE
        wanted = rng.choice((1, 2, 2, 3))
        households = []
        for _attempt in range(wanted * 3):
            household_id = rng.randint(first, last)
            if household_id not in taken:
                taken.add(household_id)
                households.append(household_id)
                if len(households) == wanted:
                    break
        for position, household_id in enumerate(households):
            writer.add(
                HouseholdAssignment,
                {
                    "id": writer.new_id(HouseholdAssignment),
                    "household_id": household_id,
                    "member_id": member["id"],
                    "grid_code": member["grid_code"],
                    "starts_on": starts_on,
                    "ended_at": None,
                    "assigned_by_id": None,
                    "created_at": created,
                },
                counted=False,
            )
            behind = not on_time and position == 0
            day = as_of - timedelta(
                days=rng.randint(interval + 1, 60) if behind else rng.randint(0, interval - 1)
            )
            while day >= year_ago:
                moment = _moment(day, rng)
                writer.add(
                    HouseholdVisit,
                    {
                        "id": writer.new_id(HouseholdVisit),
                        "member_id": member["id"],
                        "household_id": household_id,
                        "grid_code": member["grid_code"],
                        "visited_at": moment,
                        "visited_on": day,
                        "note": rng.choice(NOTES),
                        "findings": rng.choice(FINDINGS) if rng.random() < 0.15 else None,
                        "channel": "site" if rng.random() < 0.8 else "api",
                        "recorded_by_id": member["user_id"],
                        "created_at": moment,
                    },
                    counted=False,
                )
                day -= timedelta(days=rng.randint(interval, 40))


def build_activities(writer, units: dict[str, list[int]], rng: random.Random, as_of: date) -> None:
    """One or two activities a month for a year for each unit, in its community; some skipped last month."""
    this_month = month_start(as_of)
    for community_code, unit_ids in units.items():
        for unit_id in unit_ids:
            behind = rng.random() < UNIT_BEHIND_SHARE
            for back in range(12, -1, -1):
                start = _months_back(this_month, back)
                if (behind and back <= 1) or rng.random() < 0.05:
                    continue
                end = min(as_of, _months_back(this_month, back - 1) - timedelta(days=1))
                if end < start:
                    continue
                for _n in range(rng.choice((1, 1, 2))):
                    kind = rng.choice(list(ActivityKind))
                    held_on = start + timedelta(days=rng.randint(0, (end - start).days))
                    writer.add(
                        UnitActivity,
                        {
                            "id": writer.new_id(UnitActivity),
                            "unit_id": unit_id,
                            "community_code": community_code,
                            "held_on": held_on,
                            "kind": kind.value,
                            "title": ACTIVITIES[kind],
                            "participants": rng.randint(5, 40),
                            "note": None,
                            "channel": "admin",
                            "recorded_by_id": None,
                            "created_at": _moment(held_on, rng),
                        },
                        counted=False,
                    )


def _months_back(first: date, months: int) -> date:
    """The first day of the month `months` before `first`'s (negative: after)."""
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
