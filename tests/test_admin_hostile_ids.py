"""Back-office pages given ids and filter values that name no row (text, 0, numbers too big for the database):
not found or dropped with a message, never a 500."""

import pytest
from flask_admin.model import BaseModelView

from admin.views.event_steps import ACTION_FIELDS as EVENT_ACTIONS
from app.models.choices import WishAction

pytestmark = pytest.mark.usefixtures("english")

HUGE = "99999999999999999999"
NOT_IDS = [HUGE, str(2**31), "0", "-1", "abc", "1.5", "1e999", "²"]  # (no id at all: back to the list)
FEW_NOT_IDS = [HUGE, "0", "1e999", "²"]  # for the pages of every view: they all read ids one way
NOT_FILTER_VALUES = [HUGE, "-" + HUGE, "1e999"]
# pages of a view that take no record id
NO_ID_PAGES = {
    "index",
    "index_view",
    "create_view",
    "export",
    "ajax_lookup",
    "ajax_update",
    "action_view",
    "requeue_view",
    "run_view",
    "template",
    "static",
}
URL_VALUES = {"verb": next(iter(EVENT_ACTIONS)), "action": WishAction.PUBLISH.value}


def model_views(app) -> list[BaseModelView]:
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, BaseModelView)]


def pages_taking_an_id(app) -> list[tuple[str, str]]:
    """(URL, method) of every back-office page that reads a record id, but the list's own (tested apart)."""
    pages = []
    for rule in app.url_map.iter_rules():
        _blueprint, _dot, page = rule.endpoint.partition(".")
        if (
            not rule.rule.startswith("/admin/")
            or page in NO_ID_PAGES
            or page.endswith(("details_view", "edit_view", "delete_view"))
        ):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", URL_VALUES[name])
        pages += [(url, method) for method in sorted(rule.methods & {"GET", "POST"})]
    return pages


def test_a_records_details_edit_and_delete_pages_given_anything_but_an_id_answer_404(app, login_as):
    client = login_as("admin")
    for view in model_views(app):
        for value in FEW_NOT_IDS:
            details = client.get(f"{view.url}/details/", query_string={"id": value})
            expected = 404 if view.can_view_details else 302  # 302: a list without details pages
            assert details.status_code == expected, (view.endpoint, value, details.status_code)
            edit = client.get(f"{view.url}/edit/", query_string={"id": value})
            assert edit.status_code in (302, 404), (
                view.endpoint,
                value,
                edit.status_code,
            )  # 302: no editing here
            delete = client.post(f"{view.url}/delete/", data={"id": value})
            assert delete.status_code in (302, 404), (view.endpoint, value, delete.status_code)


def test_every_back_office_page_taking_an_id_answers_404_to_anything_else(app, login_as):
    client = login_as("admin")
    pages = pages_taking_an_id(app)
    assert len(pages) >= 15  # the wish and event steps, reveals, certificates, webhooks, operations …
    for url, method in pages:
        for value in NOT_IDS:
            if method == "GET":
                response = client.get(url, query_string={"id": value})
            else:
                response = client.post(url, data={"id": value})
            assert response.status_code == 404, (method, url, value, response.status_code)


def test_a_list_action_given_anything_but_ids_refuses_them_without_an_error(app, login_as):
    client = login_as("admin")
    acted = 0
    for view in model_views(app):
        for name, _label in view._actions:
            response = client.post(f"{view.url}/action/", data={"action": name, "rowid": NOT_IDS})
            assert response.status_code == 302, (view.endpoint, name, response.status_code)
            acted += 1
    assert acted >= 3  # delete, publish, re-send


def test_a_list_filter_given_a_value_it_cannot_take_drops_it_with_a_message(app, login_as):
    client = login_as("admin")
    for view in model_views(app):
        arguments = [view.get_filter_arg(index, flt) for index, flt in enumerate(view._filters or ())]
        for value in NOT_FILTER_VALUES:
            query = {f"flt{position}_{argument}": value for position, argument in enumerate(arguments)}
            response = client.get(f"{view.url}/", query_string=query)
            assert response.status_code == 200, (view.endpoint, value, response.status_code)


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/event/?flt0_4={HUGE}",  # the campaign filter, as the issue found it
        f"/admin/wish/?flt0_1={HUGE}",  # the category
        f"/admin/certificate/?flt0_0={HUGE}",  # the honour batch, a plain integer filter
        "/admin/certificate/?flt0_0=1e999",
    ],
)
def test_a_number_filter_too_big_for_the_database_is_dropped_and_said_so(login_as, url):
    response = login_as("admin").get(url)
    assert response.status_code == 200
    assert "Invalid Filter Value" in response.get_data(as_text=True)


def test_a_lists_page_number_or_size_too_big_for_the_database_is_no_error(app, login_as):
    client = login_as("admin")
    for view in model_views(app):
        for arguments in ({"page": HUGE}, {"page_size": HUGE}, {"sort": HUGE}, {"page": "-" + HUGE}):
            response = client.get(f"{view.url}/", query_string=arguments)
            assert response.status_code in (200, 404), (view.endpoint, arguments, response.status_code)


def test_an_ajax_lookup_and_its_form_field_given_anything_but_an_id_are_no_error(app, login_as):
    client = login_as("admin")
    looked_up = 0
    for view in model_views(app):
        for name, loader in (view._form_ajax_refs or {}).items():
            for arguments in ({"offset": HUGE}, {"offset": "-1"}, {"limit": HUGE}, {"limit": "-1"}):
                response = client.get(
                    f"{view.url}/ajax/lookup/", query_string={"name": name, "query": "", **arguments}
                )
                assert response.status_code == 200, (view.endpoint, name, arguments, response.status_code)
                assert len(response.json) <= loader.options["page_size"], (view.endpoint, name, arguments)
            for value in NOT_IDS:
                response = client.post(f"{view.url}/new/", data={name: value})
                # the form again with its errors (302: no creating here)
                assert response.status_code in (200, 302), (view.endpoint, name, value, response.status_code)
            looked_up += 1
    assert looked_up >= 5
