"""Page rows remember when a document was reused from an earlier sweep (incremental sweeps).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("page") as batch:
        batch.add_column(sa.Column("reused", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("reused_from", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page") as batch:
        batch.drop_column("reused_from")
        batch.drop_column("reused")
