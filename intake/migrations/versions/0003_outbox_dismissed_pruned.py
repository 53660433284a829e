"""Outbox: failed e-mails an operator dismisses, and messages dropped after the retention period.

``dismissed_at``/``dismiss_reason``: when an operator dismissed a failed e-mail
(``kb send-mail --dismiss``) and why; the row keeps ``failed_at``, so nothing ever sends it.
``message_pruned_at``: when the sender dropped the message bytes of a sent or dismissed
e-mail (``MAIL_RETENTION_DAYS``); ``message`` is then NULL, hence nullable now.
Existing rows are neither dismissed nor pruned: every new column starts NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from intake.db import UTCDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: PostgreSQL alters the table in place; SQLite cannot drop NOT NULL, so the
    # table is copied (rows, indexes and the foreign key kept). The same script for both.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("dismissed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("dismiss_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("message_pruned_at", UTCDateTime(), nullable=True))
        batch.alter_column("message", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # The dropped bytes cannot come back: pruned rows get an empty message, as NOT NULL requires.
    op.execute(sa.text("UPDATE outbox SET message = :empty WHERE message IS NULL").bindparams(
        sa.bindparam("empty", b"", type_=sa.LargeBinary())
    ))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("message", existing_type=sa.LargeBinary(), nullable=False)
        batch.drop_column("message_pruned_at")
        batch.drop_column("dismiss_reason")
        batch.drop_column("dismissed_at")
