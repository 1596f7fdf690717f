"""The demo district: Weicheng (渭城区) with a few streets, communities, grids and people.

Idempotent: every row is looked up by its natural key first, and the random
choices come from a fixed seed, so a second run adds nothing. Each part seeds in its own module; a new part
adds its module here and one line to seed_demo.
"""

from app.services.demo.activity import DEMO_WISHES, WISH_CATEGORIES, seed_accounts, seed_events, seed_wishes
from app.services.demo.areas import seed_areas, seed_matters
from app.services.demo.callups import seed_callups
from app.services.demo.common import DEMO_PASSWORDS, GIVEN, SURNAMES
from app.services.demo.people import seed_party_and_units, seed_people
from app.services.demo.records import seed_records
from app.services.demo.team import seed_team
from app.services.demo.visits import seed_visits

__all__ = [
    "DEMO_PASSWORDS",
    "DEMO_WISHES",
    "GIVEN",
    "SURNAMES",
    "WISH_CATEGORIES",
    "seed_demo",
    "seed_matters",
]


def seed_demo() -> None:
    """Create (or complete) the demo district; flushes, the caller commits."""
    grids = seed_areas()
    seed_matters()
    seed_party_and_units(grids)
    seed_people(grids)
    seed_accounts()
    seed_team()
    seed_wishes()
    seed_events()
    seed_visits()
    seed_records()
    seed_callups()
