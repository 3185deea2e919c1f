"""search folded: case-folded search text on reports and titles on articles, filled in

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BATCH = 1000


def _fold(*parts):
    # As feedback.text.folded_for_search at the time of writing (migrations keep their
    # own copy: the package's rule may change later, this step may not).
    return "\n".join(part.casefold() for part in parts if part)


def _fill(table, key, columns, target):
    """Fold ``columns`` of every row into ``target``, a batch of rows at a time."""
    connection = op.get_bind()
    rows = sa.table(table, sa.column(key), sa.column(target), *map(sa.column, columns))
    last = None
    while True:
        query = sa.select(rows.c[key], *(rows.c[name] for name in columns))
        if last is not None:
            query = query.where(rows.c[key] > last)
        batch = connection.execute(query.order_by(rows.c[key]).limit(BATCH)).all()
        if not batch:
            return
        connection.execute(
            sa.update(rows).where(rows.c[key] == sa.bindparam("row_key")),
            [{"row_key": row[0], target: _fold(*row[1:])} for row in batch],
        )
        last = batch[-1][0]


def upgrade():
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_title', sa.String(length=500), nullable=False, server_default=''))
    _fill('suggestion', 'id', ['exact', 'replacement', 'comment', 'reporter_name'], 'search_text')
    _fill('article', 'id', ['title'], 'search_title')


def downgrade():
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_column('search_title')
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_column('search_text')
