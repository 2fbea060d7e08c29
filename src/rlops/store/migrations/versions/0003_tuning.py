"""Hyperparameter tuning jobs and their trials (Optuna's own tables are created by Optuna).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tuning_jobs",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("failure_reason", sa.Text),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("work_dir", sa.Text, nullable=False),
        sa.Column("log_path", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float),
        sa.Column("heartbeat_at", sa.Float),
        sa.Column("supervisor_pid", sa.Integer),
        sa.Column("supervisor_started", sa.Float),
        sa.Column("supervisor_host", sa.String(255)),
        sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("restarts", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "tuning_trials",
        sa.Column("training_job_name", sa.String(63), primary_key=True),
        sa.Column("tuning_job_name", sa.String(32), sa.ForeignKey("tuning_jobs.name", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("trial_number", sa.Integer, nullable=False),
        sa.Column("hyperparameters", sa.Text, nullable=False),
        sa.Column("objective_status", sa.String(16), nullable=False),
        sa.Column("final_objective", sa.Float),
        sa.Column("early_stopped", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_tuning_trials_tuning_job", "tuning_trials", ["tuning_job_name", "trial_number"])


def downgrade():
    op.drop_index("ix_tuning_trials_tuning_job", table_name="tuning_trials")
    op.drop_table("tuning_trials")
    op.drop_table("tuning_jobs")
