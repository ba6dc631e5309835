"""The workbench: users, their login sessions and attempts, and reviewers' decisions.

Revision ID: 0005
Revises: 0004

Written by hand to match storage/models.py (names follow models.NAMING_CONVENTION). Only new
tables, so no batch operation is needed on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create app_user, review, login_session and login_attempt."""
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("regions", sa.Text(), nullable=False),
        sa.Column("unit_urls", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_app_user"),
    )
    op.create_index("ix_app_user_name", "app_user", ["name"], unique=True)

    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("status_after", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("evidence_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("superseded_at", _tz(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_review_unit_id_unit", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["app_user.id"], name="fk_review_reviewer_id_app_user"),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["finding.id"], name="fk_review_finding_id_finding", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review"),
    )
    op.create_index("ix_review_unit_id", "review", ["unit_id"], unique=False)
    op.create_index("ix_review_reviewer_id", "review", ["reviewer_id"], unique=False)
    op.create_index("ix_review_finding_id", "review", ["finding_id"], unique=False)

    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("expires_at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_login_session_user_id_app_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_login_session"),
    )
    op.create_index("ix_login_session_token_sha256", "login_session", ["token_sha256"], unique=True)
    op.create_index("ix_login_session_user_id", "login_session", ["user_id"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempt"),
    )
    op.create_index("ix_login_attempt_name", "login_attempt", ["name"], unique=False)
    op.create_index("ix_login_attempt_at", "login_attempt", ["at"], unique=False)


def downgrade() -> None:
    """Drop the four tables (children first)."""
    for table in ("login_attempt", "login_session", "review", "app_user"):
        op.drop_table(table)
