"""Training jobs, their status transitions and metric data points.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "training_jobs",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("secondary_status", sa.String(32), nullable=False),
        sa.Column("failure_reason", sa.Text),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("work_dir", sa.Text, nullable=False),
        sa.Column("log_path", sa.Text, nullable=False),
        sa.Column("model_artifacts", sa.Text),
        sa.Column("output_artifacts", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("heartbeat_at", sa.Float),
        sa.Column("supervisor_pid", sa.Integer),
        sa.Column("supervisor_started", sa.Float),
        sa.Column("supervisor_host", sa.String(255)),
        sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "status_transitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_name", sa.String(63), sa.ForeignKey("training_jobs.name", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("start_time", sa.Float, nullable=False),
    )
    op.create_index("ix_status_transitions_job", "status_transitions", ["job_name", "id"])
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_name", sa.String(63), sa.ForeignKey("training_jobs.name", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("host", sa.String(32)),
    )
    op.create_index("ix_metrics_job_name", "metrics", ["job_name", "name", "id"])


def downgrade():
    op.drop_table("metrics")
    op.drop_table("status_transitions")
    op.drop_table("training_jobs")
