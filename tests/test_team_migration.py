"""Upgrading grid teams recorded per place (name and phone copied on each grid) to one person per holder."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from support import app_settings, separate_database

from app import create_app
from app.extensions import db

BEFORE = "32da32a84e1d"  # the last revision with names and phones on the places
NOW = "2026-01-01 00:00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, app):
    kind = request.param
    if kind == "postgresql" and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the PostgreSQL case runs in the PostgreSQL pass")
    if kind == "sqlite" and app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the SQLite case runs in the SQLite pass")
    with separate_database(kind, "team_migration") as url:
        yield create_app(app_settings(url))


def sql(statement: str, **params):
    return db.session.execute(text(statement), params)


def test_places_become_one_person_per_holder_and_a_grid_keeps_one_captain(old_database):
    with old_database.app_context():
        upgrade(revision=BEFORE)
        areas = [
            (1, "610404", "渭城区", "district", None),
            (2, "610404001", "渭阳街道", "street", 1),
            (3, "610404001001", "文汇社区", "community", 2),
            (4, "610404001002", "渭滨社区", "community", 2),
        ] + [
            (10 + i, code, f"第{i}网格", "grid", 3 if code[9:12] == "001" else 4)
            for i, code in enumerate(
                ["610404001001001", "610404001001002", "610404001001003", "610404001002001"]
            )
        ]
        for row in areas:
            sql(
                "INSERT INTO area (id, code, name, level, parent_id, created_at) "
                "VALUES (:i, :c, :n, :l, :p, :t)",
                i=row[0],
                c=row[1],
                n=row[2],
                l=row[3],
                p=row[4],
                t=NOW,
            )
        places = [  # the same adviser copied on four grids (two communities); two namesakes without a phone
            (1, "610404001001001", "legal_adviser", "周律师", "13900000001"),
            (2, "610404001001002", "legal_adviser", "周律师", "13900000001"),
            (3, "610404001001003", "legal_adviser", "周律师", "13900000001"),
            (4, "610404001002001", "legal_adviser", "周律师", "13900000001"),
            (5, "610404001001001", "vanguard_captain", "王队长", "13900000002"),
            (6, "610404001001001", "building_head", "李明", None),
            (7, "610404001001002", "building_head", "李明", None),
        ]
        for place in places:
            sql(
                "INSERT INTO grid_role (id, grid_code, role, name, phone, duties, created_at) "
                "VALUES (:i, :g, :r, :n, :p, '法律咨询', :t)",
                i=place[0],
                g=place[1],
                r=place[2],
                n=place[3],
                p=place[4],
                t=NOW,
            )
        if db.engine.dialect.name == "postgresql":  # the rows came with their ids
            sql("SELECT setval(pg_get_serial_sequence('grid_role', 'id'), 7)")
        db.session.commit()
        upgrade()
        persons = sql("SELECT name, phone, area_code FROM team_person ORDER BY id").all()
        assert [tuple(p) for p in persons] == [
            ("周律师", "13900000001", "610404001"),  # one person, managed by the street of their grids
            ("王队长", "13900000002", "610404001001001"),
            ("李明", None, "610404001001001"),
            ("李明", None, "610404001001002"),  # namesakes without a phone stay two people
        ]
        linked = sql(
            "SELECT grid_role.id, team_person.name FROM grid_role JOIN team_person "
            "ON team_person.id = grid_role.person_id ORDER BY grid_role.id"
        ).all()
        assert [name for _id, name in linked] == ["周律师"] * 4 + ["王队长", "李明", "李明"]
        assert sql("SELECT duties FROM grid_role WHERE id = 1").scalar() == "法律咨询"
        # a second legal adviser in a grid is allowed now; a second captain still is not
        sql(
            "INSERT INTO grid_role (grid_code, role, person_id, created_at) "
            "VALUES ('610404001001001', 'legal_adviser', 2, :t)",
            t=NOW,
        )
        db.session.commit()
        with pytest.raises(IntegrityError):
            sql(
                "INSERT INTO grid_role (grid_code, role, person_id, created_at) "
                "VALUES ('610404001001001', 'vanguard_captain', 3, :t)",
                t=NOW,
            )
        db.session.rollback()
        next_id = sql(
            "INSERT INTO team_person (name, area_code, created_at) VALUES ('新人', '610404001', :t) RETURNING id",
            t=NOW,
        ).scalar()
        assert next_id == 5  # the ids given by the upgrade moved the sequence on
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
