"""A scoped user sees and touches only their own part of the district, everywhere in the back office."""

import csv
import io
import json
import re
from datetime import date

import pytest
from flask_admin.model import BaseModelView
from sqlalchemy import func, select

from admin.scoping import AreaFilter, RowFilter
from app.extensions import db
from app.models import Area, Household, Resident, User
from app.models.events import Campaign
from app.services.scope import code_in_scope

GRID_A = "610404001001001"  # the demo grid worker "grid"
GRID_B = "610404001001002"  # the demo grid worker "grid2"
OTHER_COMMUNITY_GRID = "610404001002001"


def listed_ids(page: str) -> set[int]:
    """The ids of the rows a back-office list page links to."""
    return {int(i) for i in re.findall(r"/details/\?id=(\d+)", page)}


def ids_in(grid_prefix: str) -> set[int]:
    return set(db.session.scalars(select(Resident.id).where(Resident.grid_code.startswith(grid_prefix))))


def resident_in(grid_code: str) -> Resident:
    return db.session.scalars(
        select(Resident).where(Resident.grid_code == grid_code).order_by(Resident.id)
    ).first()


def test_grid_worker_lists_only_residents_of_their_grid(login_as):
    client = login_as("grid")
    page = client.get("/admin/resident/?page_size=100").get_data(as_text=True)
    assert listed_ids(page) == ids_in(GRID_A)


def test_grid_worker_cannot_open_or_edit_a_resident_of_another_grid(login_as):
    client = login_as("grid")
    other = resident_in(GRID_B)
    assert client.get(f"/admin/resident/details/?id={other.id}").status_code == 404
    assert client.get(f"/admin/resident/edit/?id={other.id}").status_code == 404
    response = client.post(f"/admin/resident/edit/?id={other.id}", data={"name": "篡改", "grid": GRID_A})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Resident, other.id).name != "篡改"


def test_grid_worker_cannot_delete_a_resident_of_another_grid(login_as):
    client = login_as("grid")
    other = resident_in(GRID_B)
    client.post("/admin/resident/delete/", data={"id": other.id})
    client.post("/admin/resident/action/", data={"action": "delete", "rowid": [other.id]})
    db.session.expire_all()
    assert db.session.get(Resident, other.id) is not None


def test_grid_worker_export_contains_only_their_grid(login_as):
    client = login_as("grid")
    response = client.get("/admin/resident/export/csv/")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    own = db.session.scalar(select(func.count()).select_from(Resident).where(Resident.grid_code == GRID_A))
    assert len(rows) - 1 == own
    assert resident_in(GRID_B).name not in response.get_data(as_text=True) or resident_in(GRID_B).name in {
        r.name for r in db.session.scalars(select(Resident).where(Resident.grid_code == GRID_A))
    }


def test_grid_worker_cannot_pick_another_grid_in_a_form(login_as):
    client = login_as("grid")
    form = client.get("/admin/resident/new/").get_data(as_text=True)
    assert f'value="{db.session.scalar(select(Area.id).where(Area.code == GRID_A))}"' in form
    grid_b_id = db.session.scalar(select(Area.id).where(Area.code == GRID_B))
    assert f'value="{grid_b_id}"' not in form
    before = db.session.scalar(select(func.count()).select_from(Resident))
    response = client.post(
        "/admin/resident/new/", data={"name": "越界", "grid": grid_b_id, "residence_type": "registered"}
    )
    assert response.status_code == 200  # the form comes back with an error
    assert db.session.scalar(select(func.count()).select_from(Resident)) == before


def test_grid_worker_ajax_lookup_offers_only_households_of_their_grid(login_as):
    client = login_as("grid")
    response = client.get("/admin/resident/ajax/lookup/?name=household&query=")
    ids = {row[0] for row in response.get_json()}
    assert ids
    grids = {db.session.get(Household, i).grid_code for i in ids}
    assert grids == {GRID_A}


def test_grid_worker_filter_choices_list_only_their_grid(login_as):
    client = login_as("grid")
    page = client.get("/admin/resident/").get_data(as_text=True)
    assert GRID_A in page
    assert GRID_B not in page


def test_community_admin_sees_all_grids_of_their_community_and_none_of_another(login_as):
    client = login_as("community")
    page = client.get("/admin/resident/?page_size=100").get_data(as_text=True)
    assert listed_ids(page) == ids_in("610404001001")
    assert ids_in(GRID_A) and ids_in(GRID_B) and not (listed_ids(page) & ids_in(OTHER_COMMUNITY_GRID))
    assert (
        client.get(f"/admin/resident/details/?id={resident_in(OTHER_COMMUNITY_GRID).id}").status_code == 404
    )


def test_scoped_home_counts_are_the_users_own(login_as):
    client = login_as("grid")
    page = client.get("/admin/").get_data(as_text=True)
    own = db.session.scalar(select(func.count()).select_from(Resident).where(Resident.grid_code == GRID_A))
    assert f'data-count="residents">{own}<' in page


def test_filter_by_grid_narrows_the_list(login_as):
    client = login_as("community")
    page = client.get(f"/admin/resident/?flt0_2={GRID_B}&page_size=100").get_data(as_text=True)
    assert listed_ids(page) == ids_in(GRID_B)


@pytest.mark.usefixtures("english")
def test_filter_outside_scope_shows_nothing_extra_and_is_dropped_as_invalid(login_as):
    client = login_as("grid")
    page = client.get(f"/admin/resident/?flt0_2={GRID_B}&page_size=100").get_data(as_text=True)
    assert listed_ids(page) <= ids_in(GRID_A) and f"Invalid Filter Value: {GRID_B}" in page


def filter_choices(page: str) -> dict[int, list[tuple[str, str]]]:
    """The choices each filter of a list page offers, by the filter's index."""
    found = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', page, re.DOTALL)
    groups = json.loads(found.group(1)) if found else {}
    return {entry["index"]: entry["options"] or [] for entries in groups.values() for entry in entries}


def reaches(user: User, code: str) -> bool:
    """An area inside the user's scope, or above it (a district-wide campaign covers every grid)."""
    return code_in_scope(user, code) or user.scope_prefix.startswith(code)


@pytest.mark.parametrize("username", ["grid", "community", "street"])
def test_no_list_offers_a_filter_choice_from_outside_the_users_area(app, login_as, username):
    today = date.today()
    db.session.add_all(
        [
            Campaign(name=name, area_code=code, starts_on=today)
            for name, code in (
                ("全区创卫专项", "610404"),
                ("渭阳街道控违专项", "610404001"),
                ("渭滨社区停车专项", "610404001002"),
                ("人民路街道占道专项", "610404002"),
            )
        ]
    )
    db.session.commit()
    user = db.session.scalar(select(User).where(User.username == username))
    client, checked = login_as(username), 0
    for view in (v for v in app.extensions["admin"][0]._views if isinstance(v, BaseModelView) and v._filters):
        response = client.get(f"{view.url}/")
        if response.status_code == 403:
            continue
        for index, options in filter_choices(response.get_data(as_text=True)).items():
            flt = view._filters[index]
            if isinstance(flt, AreaFilter):
                assert all(code_in_scope(user, code) for code, _label in options), (view.endpoint, flt.name)
            elif isinstance(flt, RowFilter):
                model = flt.select.column_descriptions[0]["entity"]
                for key, label in options:
                    row = db.session.get(model, int(key))
                    column = getattr(model, "scope_column_name", None)
                    assert column is None or reaches(user, getattr(row, column)), (view.endpoint, label)
            checked += 1
    assert checked >= 20
    events = filter_choices(client.get("/admin/event/").get_data(as_text=True))
    campaigns = {label for _key, label in events[4]}  # the 专项治理 filter (flt0_4)
    expected = {
        "grid": {"全区创卫专项", "渭阳街道控违专项"},
        "community": {"全区创卫专项", "渭阳街道控违专项"},
        "street": {"全区创卫专项", "渭阳街道控违专项", "渭滨社区停车专项"},
    }[username]
    assert campaigns == expected


def test_grid_worker_bulk_deletes_a_resident_of_their_own_grid(login_as):
    client = login_as("grid")
    own, other = resident_in(GRID_A).id, resident_in(GRID_B).id
    client.post("/admin/resident/action/", data={"action": "delete", "rowid": [own, other]})
    db.session.expire_all()
    assert db.session.get(Resident, own) is None
    assert db.session.get(Resident, other) is not None
