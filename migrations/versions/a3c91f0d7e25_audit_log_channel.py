"""Audit log: the channel each change came through (back office, site, API, job, command line).

Revision ID: a3c91f0d7e25
Revises: 057424653f94
Create Date: 2026-12-02 06:00:00

Until now only the back office and the import command wrote the audit log: the rows already there are the back
office's (`admin`), except the imports the command line made without `--as` (`cli`); an import made with `--as`
cannot be told from one made in the back office and is left without a channel.
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "a3c91f0d7e25"
down_revision = "057424653f94"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=5), nullable=True))
        batch.create_check_constraint(
            op.f("ck_audit_log_channel_valid"), "channel IN ('admin', 'site', 'api', 'job', 'cli')"
        )
    op.execute(
        "UPDATE audit_log SET channel = 'cli' WHERE action = 'import' AND user_id IS NULL AND username = 'cli'"
    )
    op.execute("UPDATE audit_log SET channel = 'admin' WHERE action != 'import'")


def downgrade():
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_channel_valid"), type_="check")
        batch.drop_column("channel")
