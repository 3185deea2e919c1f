"""partial duplicates index: the index of duplicate_of_id holds the duplicates only

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # An index of mostly NULLs misleads SQLite's planner into using it for
    # "duplicate_of_id IS NULL" (every queue query), then sorting every group.
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_duplicate_of_id')
        batch_op.create_index(
            'ix_suggestion_duplicate_of_id', ['duplicate_of_id'], unique=False,
            postgresql_where=sa.text('duplicate_of_id IS NOT NULL'),
            sqlite_where=sa.text('duplicate_of_id IS NOT NULL'),
        )


def downgrade():
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_duplicate_of_id')
        batch_op.create_index('ix_suggestion_duplicate_of_id', ['duplicate_of_id'], unique=False)
