"""possible duplicates: a group's first report may point at an older open group it may repeat

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for every stored report: `feedback reports regroup` flags the open ones.
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('possible_duplicate_of_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            'fk_suggestion_possible_duplicate_of_id', 'suggestion',
            ['possible_duplicate_of_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_index(
            batch_op.f('ix_suggestion_possible_duplicate_of_id'), ['possible_duplicate_of_id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_possible_duplicate_of_id'))
        batch_op.drop_constraint('fk_suggestion_possible_duplicate_of_id', type_='foreignkey')
        batch_op.drop_column('possible_duplicate_of_id')
