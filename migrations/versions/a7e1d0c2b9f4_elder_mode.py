"""长辈模式 (适老化): the account's preference for larger text and tap targets

Revision ID: a7e1d0c2b9f4
Revises: 6b2f1d8c0e32
Create Date: 2026-12-02 13:25:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a7e1d0c2b9f4"
down_revision = "6b2f1d8c0e32"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("elder_mode", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("elder_mode")
