"""Evidence links its screenshot; pages link their record in the WARC archive.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("screenshot", sa.Text(), nullable=True))
        batch.add_column(sa.Column("screenshot_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("page") as batch:
        batch.add_column(sa.Column("warc_record", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page") as batch:
        batch.drop_column("warc_record")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("screenshot_sha256")
        batch.drop_column("screenshot")
