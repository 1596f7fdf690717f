"""Audit log: import and export actions (many rows at once, with their counts).

Revision ID: b7e4c2a91f3d
Revises: 596397cbc14e
Create Date: 2026-11-26 08:20:00

Autogenerate does not see a check constraint's text change, so this one is written by hand. SQLite
cannot alter a constraint: batch mode rebuilds the table (the audit log's rows are copied across).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e4c2a91f3d"
down_revision = "596397cbc14e"
branch_labels = None
depends_on = None

BEFORE = ("create", "update", "delete", "reveal")
AFTER = BEFORE + ("import", "export")


def _allow(actions) -> None:
    allowed = ", ".join(f"'{a}'" for a in actions)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_action_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_audit_log_action_valid"), f"action IN ({allowed})")


def upgrade():
    _allow(AFTER)


def downgrade():
    op.execute("DELETE FROM audit_log WHERE action IN ('import', 'export')")
    _allow(BEFORE)
