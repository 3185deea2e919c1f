"""revision sources: who said the article reads so (cms, fetched, reader, unknown)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SOURCES = ('cms', 'fetched', 'reader', 'unknown')


def upgrade():
    # Texts stored so far cannot be told apart (a CMS push and a reader's text were
    # stored alike), so each is "unknown" and counts as a reader's claim. Nothing is
    # deleted: reports already fixed stay fixed, with their history.
    # Plain ADD COLUMN (no table copy on SQLite, whose foreign keys would refuse it).
    op.add_column('article_revision', sa.Column('source', sa.Enum(*SOURCES, name='revisionsource', native_enum=False, length=16), nullable=False, server_default='unknown'))
    op.add_column('article_revision', sa.Column('title', sa.String(length=500), nullable=False, server_default=''))
    # No article has a verified text yet: until the site pushes one or its page is read,
    # each report stands in the text its reader saw.
    op.execute("UPDATE article SET current_revision_number = NULL")
    # Where an open report stood in a later claimed text (and any orphaned or "text
    # changed" flag that text gave it) came from a claim: it stands in its reader's text
    # again and is placed anew by the next verified text.
    op.execute(
        "UPDATE suggestion SET anchor_revision_id = NULL, anchor_start = NULL,"
        " anchor_end = NULL, anchor_state = 'anchored', text_changed = false"
        " WHERE status IN ('new', 'accepted') AND anchor_revision_id IS NOT NULL"
    )
    # Articles with open reports have their page read soon, for a verified text, and the
    # backoff schedule from there.
    op.execute(
        "UPDATE article_fetch SET due_at = CURRENT_TIMESTAMP, step = 0 WHERE article_id IN"
        " (SELECT article_id FROM suggestion WHERE status IN ('new', 'accepted'))"
    )
    op.execute(
        "INSERT INTO article_fetch (article_id, due_at, step)"
        " SELECT DISTINCT article_id, CURRENT_TIMESTAMP, 0 FROM suggestion"
        " WHERE status IN ('new', 'accepted') AND article_id NOT IN"
        " (SELECT article_id FROM article_fetch)"
    )


def downgrade():
    op.execute(
        "UPDATE article SET current_revision_number = (SELECT max(number) FROM article_revision"
        " WHERE article_revision.article_id = article.id)"
    )
    op.drop_column('article_revision', 'title')
    op.drop_column('article_revision', 'source')
