"""search trigram indexes: PostgreSQL's queue search reads a pg_trgm index, not every row

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_suggestion_search_text_trgm', 'suggestion', 'search_text'),
    ('ix_article_search_title_trgm', 'article', 'search_title'),
)


def upgrade():
    # PostgreSQL only: SQLite has no trigram index of this kind (its searches still
    # read every row of the tab).
    if op.get_bind().dialect.name != 'postgresql':
        return
    # pg_trgm ships with PostgreSQL's contrib and is trusted: the database's owner may
    # add it without being a superuser.
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for name, table, column in INDEXES:
        op.create_index(
            name, table, [column], unique=False,
            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'},
        )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
    # The extension stays: other schemas in the database may use it.
