"""Personal data stays masked in lists, forms and exports; reveals and edits are audited."""

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Resident
from app.services.masking import mask_id_number, mask_phone


def first_resident() -> Resident:
    return db.session.scalars(
        select(Resident).where(Resident.id_number.is_not(None)).order_by(Resident.id)
    ).first()


def test_list_shows_phone_and_id_number_masked_only(login_as):
    client = login_as("admin")
    residents = db.session.scalars(select(Resident).order_by(Resident.id.desc()).limit(20)).all()
    page = client.get("/admin/resident/").get_data(as_text=True)
    for r in [r for r in residents if r.id_number]:
        assert r.phone not in page
        assert r.id_number not in page
        assert mask_phone(r.phone) in page
        assert mask_id_number(r.id_number) in page


def test_csv_and_xlsx_exports_mask_personal_data(login_as):
    client = login_as("admin")
    text = client.get("/admin/resident/export/csv/").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) - 1 == db.session.scalar(select(func.count()).select_from(Resident))
    workbook = load_workbook(io.BytesIO(client.get("/admin/resident/export/xlsx/").data))
    xlsx_text = " ".join(str(c.value) for row in workbook.active.iter_rows() for c in row)
    for r in db.session.scalars(select(Resident).where(Resident.id_number.is_not(None))):
        assert r.phone not in text and r.phone not in xlsx_text
        assert r.id_number not in text and r.id_number not in xlsx_text


def test_edit_form_shows_masked_values_and_keeps_them_when_untouched(login_as):
    client = login_as("admin")
    resident = first_resident()
    phone, id_number = resident.phone, resident.id_number
    form = client.get(f"/admin/resident/edit/?id={resident.id}").get_data(as_text=True)
    assert phone not in form and id_number not in form
    assert mask_phone(phone) in form
    response = client.post(
        f"/admin/resident/edit/?id={resident.id}",
        data={
            "name": "新名字",
            "grid": resident.grid.id,
            "residence_type": "registered",
            "phone": mask_phone(phone),
            "id_number": mask_id_number(id_number),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    resident = db.session.get(Resident, resident.id)
    assert resident.name == "新名字"
    assert resident.phone == phone and resident.id_number == id_number


def test_an_edit_leaves_one_audit_row_with_before_and_after(login_as):
    client = login_as("admin")
    resident = first_resident()
    old_name = resident.name
    client.post(
        f"/admin/resident/edit/?id={resident.id}",
        data={
            "name": "王改名",
            "grid": resident.grid.id,
            "residence_type": "registered",
            "phone": mask_phone(resident.phone),
            "id_number": mask_id_number(resident.id_number),
        },
    )
    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.model == "Resident", AuditLog.action == "update")
    ).all()
    assert len(rows) == 1
    assert rows[0].before == {"name": old_name} and rows[0].after == {"name": "王改名"}
    assert rows[0].username == "admin" and rows[0].object_id == str(resident.id)


def test_changing_a_phone_is_audited_masked(login_as):
    client = login_as("admin")
    resident = first_resident()
    client.post(
        f"/admin/resident/edit/?id={resident.id}",
        data={
            "name": resident.name,
            "grid": resident.grid.id,
            "residence_type": "registered",
            "phone": "13900001111",
            "id_number": mask_id_number(resident.id_number),
        },
    )
    db.session.expire_all()
    assert db.session.get(Resident, resident.id).phone == "13900001111"
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "update")).one()
    assert row.after == {"phone": "139****1111"}


def test_a_reveal_shows_the_full_values_and_leaves_one_audit_row(login_as):
    client = login_as("grid")
    resident = db.session.scalars(select(Resident).where(Resident.grid_code == "610404001001001")).first()
    page = client.post("/admin/resident/reveal/", data={"id": resident.id}).get_data(as_text=True)
    assert resident.phone in page and resident.id_number in page
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "reveal")).all()
    assert len(rows) == 1
    assert rows[0].object_id == str(resident.id) and rows[0].username == "grid"
    assert resident.phone not in str(rows[0].after)


def test_reveal_outside_scope_is_not_found_and_not_audited(login_as):
    client = login_as("grid")
    other = db.session.scalars(select(Resident).where(Resident.grid_code == "610404001001002")).first()
    assert client.post("/admin/resident/reveal/", data={"id": other.id}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_reveal_needs_a_post(login_as):
    client = login_as("admin")
    assert client.get(f"/admin/resident/reveal/?id={first_resident().id}").status_code == 405


def test_create_and_delete_are_audited(login_as):
    client = login_as("grid")
    grid_id = db.session.scalar(select(db.text("id FROM area WHERE code = '610404001001001'")))
    response = client.post(
        "/admin/resident/new/",
        data={"name": "新居民", "grid": grid_id, "residence_type": "registered", "phone": "13812345678"},
    )
    assert response.status_code == 302
    created = db.session.scalars(select(Resident).where(Resident.name == "新居民")).one()
    client.post("/admin/resident/delete/", data={"id": created.id})
    actions = [r.action for r in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["create", "delete"]
    create_row = db.session.scalars(select(AuditLog).where(AuditLog.action == "create")).one()
    assert create_row.after["phone"] == "138****5678" and create_row.area_code == "610404001001001"
