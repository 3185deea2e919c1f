"""decisions: an editor's decision that Undo takes back, the state before each audited
change, and reader mail held for a decision

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undo_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index('ix_decision_user_created', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('before', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_decision_id'), ['decision_id'], unique=False)
        batch_op.create_foreign_key('fk_audit_event_decision_id', 'decision', ['decision_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_decision_id'), ['decision_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_message_decision_id', 'decision', ['decision_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_message_decision_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_decision_id'))
        batch_op.drop_column('decision_id')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_event_decision_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_decision_id'))
        batch_op.drop_column('before')
        batch_op.drop_column('decision_id')

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_user_created')

    op.drop_table('decision')
