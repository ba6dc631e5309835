"""Initial schema: unit, sweep, visit, page, finding, evidence.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00

Written by hand to match storage/models.py exactly (names follow models.NAMING_CONVENTION).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the six tables."""
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=255), nullable=False),
        sa.Column("province", sa.String(length=255), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("updated_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_unit"),
    )
    op.create_index("ix_unit_url", "unit", ["url"], unique=True)

    op.create_table(
        "sweep",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("started_at", _tz(), nullable=False),
        sa.Column("finished_at", _tz(), nullable=True),
        sa.Column("filter_region", sa.String(length=255), nullable=True),
        sa.Column("filter_kind", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sweep"),
    )

    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sweep_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=True),
        sa.Column("https", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", _tz(), nullable=True),
        sa.Column("finished_at", _tz(), nullable=True),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("zone", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["sweep_id"], ["sweep.id"], name="fk_visit_sweep_id_sweep", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_visit_unit_id_unit"),
        sa.PrimaryKeyConstraint("id", name="pk_visit"),
        sa.UniqueConstraint("sweep_id", "unit_id", name="uq_visit_sweep_id_unit_id"),
    )
    op.create_index("ix_visit_sweep_id", "visit", ["sweep_id"], unique=False)
    op.create_index("ix_visit_unit_id", "visit", ["unit_id"], unique=False)

    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_sha256", sa.String(length=64), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("fetched_at", _tz(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name="fk_page_visit_id_visit", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_page"),
        sa.UniqueConstraint("visit_id", "url_sha256", name="uq_page_visit_id_url_sha256"),
    )
    op.create_index("ix_page_visit_id", "page", ["visit_id"], unique=False)
    op.create_index("ix_page_sha256", "page", ["sha256"], unique=False)

    op.create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name="fk_finding_visit_id_visit", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_finding"),
        sa.UniqueConstraint("visit_id", "indicator", name="uq_finding_visit_id_indicator"),
    )
    op.create_index("ix_finding_visit_id", "finding", ["visit_id"], unique=False)

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("locator", sa.Text(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("captured_at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["finding.id"], name="fk_evidence_finding_id_finding", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["page_id"], ["page.id"], name="fk_evidence_page_id_page", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
    )
    op.create_index("ix_evidence_finding_id", "evidence", ["finding_id"], unique=False)
    op.create_index("ix_evidence_page_id", "evidence", ["page_id"], unique=False)


def downgrade() -> None:
    """Drop the six tables (children first)."""
    for table in ("evidence", "finding", "page", "visit", "sweep", "unit"):
        op.drop_table(table)
