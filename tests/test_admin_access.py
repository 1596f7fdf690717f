"""Who may open the back office: the access matrix over every registered admin view."""

import pytest

from app.extensions import db
from app.models import Resident


def admin_view_urls(app) -> list[str]:
    """The list page of every registered back-office view."""
    admin = app.extensions["admin"][0]
    urls = []
    with app.test_request_context():
        from flask import url_for

        for view in admin._views:
            urls.append(
                url_for(f"{view.endpoint}.index_view" if hasattr(view, "model") else f"{view.endpoint}.index")
            )
    return urls


def test_every_admin_view_redirects_anonymous_users_to_login(app, client, demo):
    for url in admin_view_urls(app):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


@pytest.mark.parametrize("username", ["resident", "member"])
def test_every_admin_view_refuses_users_without_back_office_rights(app, login_as, username):
    client = login_as(username)
    for url in admin_view_urls(app):
        assert client.get(url).status_code == 403, url


def test_admin_opens_every_view(app, login_as):
    client = login_as("admin")
    for url in admin_view_urls(app):
        response = client.get(url)
        assert response.status_code == 200, url
        # and the details, edit and create pages of the first row render too
    for endpoint in ("resident", "area", "unit", "gridrole", "member", "pledge", "user", "matter"):
        assert client.get(f"/admin/{endpoint}/new/").status_code == 200, endpoint


def test_admin_opens_details_and_edit_pages(app, login_as):
    client = login_as("admin")
    resident = db.session.scalars(db.select(Resident)).first()
    assert client.get(f"/admin/resident/details/?id={resident.id}").status_code == 200
    assert client.get(f"/admin/resident/edit/?id={resident.id}").status_code == 200
    grid = db.session.scalar(db.select(db.text("id FROM area WHERE level = 'grid'")))
    page = client.get(f"/admin/area/details/?id={grid}")
    assert page.status_code == 200
    assert "网格" in page.get_data(as_text=True) or "Grid team" in page.get_data(as_text=True)


def test_department_user_reads_reference_data_but_not_residents(login_as):
    client = login_as("dept")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/matter/").status_code == 200
    assert client.get("/admin/department/").status_code == 200
    assert client.get("/admin/resident/").status_code == 403
    assert client.get("/admin/matter/new/").status_code in (302, 403)


def test_grid_worker_cannot_manage_users_or_edit_the_matter_list(login_as):
    client = login_as("grid")
    assert client.get("/admin/user/").status_code == 403
    assert client.get("/admin/matter/").status_code == 200
    response = client.get("/admin/matter/new/")
    assert response.status_code == 302  # Flask-Admin sends users without create rights back to the list
