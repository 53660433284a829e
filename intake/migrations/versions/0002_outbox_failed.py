"""Outbox: messages an SMTP server refuses for good are marked failed instead of retried forever.

``failed_at``: when the sender gave up on the message (NULL while it is queued or sent).
``permanent_failures``: permanent refusals (SMTP 5xx) in a row; a temporary failure in
between sets it back to 0. Existing rows start at 0: nothing counts against them yet.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from intake.db import UTCDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: plain ALTER TABLE ADD COLUMN where the backend can (both columns here),
    # a copy of the table on SQLite otherwise; the same script for SQLite and PostgreSQL.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("permanent_failures", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("failed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("failed_at")
        batch.drop_column("permanent_failures")
