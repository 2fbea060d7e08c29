"""Spot-style jobs: an interruption asked of a job's supervisor (``rlops jobs interrupt``), and how many times its
supervisor was started again after it was lost.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("training_jobs") as batch:
        batch.add_column(sa.Column("interrupt_requested", sa.Text))
        batch.add_column(sa.Column("restarts", sa.Integer, nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("training_jobs") as batch:
        batch.drop_column("restarts")
        batch.drop_column("interrupt_requested")
