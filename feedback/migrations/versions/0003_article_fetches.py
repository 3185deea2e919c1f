"""article fetches: each article's fetch schedule and last outcome, and sites' hourly budgets

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('article_fetch',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_outcome', sa.Enum('adopted', 'unchanged', 'implausible', 'failed', 'skipped', name='fetchoutcome', native_enum=False, length=16), nullable=True),
    sa.Column('last_detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id')
    )
    with op.batch_alter_table('article_fetch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_fetch_due_at'), ['due_at'], unique=False)

    op.create_table('fetch_budget',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'hour')
    )
    # Articles that already have open reports get their first fetch within the first
    # minutes after the upgrade, and the backoff schedule from there.
    op.execute(
        "INSERT INTO article_fetch (article_id, due_at, step)"
        " SELECT DISTINCT article_id, CURRENT_TIMESTAMP, 0 FROM suggestion"
        " WHERE status IN ('new', 'accepted')"
    )


def downgrade():
    op.drop_table('fetch_budget')
    with op.batch_alter_table('article_fetch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_fetch_due_at'))

    op.drop_table('article_fetch')
