"""Measure plan: the full measure sheet (type, goal, costs, savings, progress ...), milestones,
energy savings per carrier, success indicators with yearly values, generated plan exports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:38:51.705797

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fmt', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_plan_exports_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_exports'))
    )
    with op.batch_alter_table('plan_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_exports_state'), ['state'], unique=False)

    op.create_table('measure_energy_savings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('mwh_per_year', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_measure_energy_savings_measure_id_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_energy_savings')),
    sa.UniqueConstraint('measure_id', 'carrier', name='uq_measure_energy_savings_carrier')
    )
    with op.batch_alter_table('measure_energy_savings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_energy_savings_measure_id'), ['measure_id'], unique=False)

    op.create_table('measure_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('baseline_value', sa.Numeric(precision=16, scale=3), nullable=True),
    sa.Column('baseline_year', sa.Integer(), nullable=True),
    sa.Column('target_value', sa.Numeric(precision=16, scale=3), nullable=True),
    sa.Column('target_year', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_measure_indicators_measure_id_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_indicators'))
    )
    with op.batch_alter_table('measure_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_indicators_measure_id'), ['measure_id'], unique=False)

    op.create_table('measure_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['measure_id'], ['measures.id'], name=op.f('fk_measure_milestones_measure_id_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_milestones'))
    )
    with op.batch_alter_table('measure_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_milestones_measure_id'), ['measure_id'], unique=False)

    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=16, scale=3), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['measure_indicators.id'], name=op.f('fk_indicator_values_indicator_id_measure_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
    sa.UniqueConstraint('indicator_id', 'year', name='uq_indicator_values_year')
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_indicator_id'), ['indicator_id'], unique=False)

    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('measure_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('goal', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('starting_situation', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('lead_unit', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('partners', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('target_group', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('start_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('end_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duration', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('ramp_up_years', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('priority', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('cost_one_off_eur', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('cost_per_year_eur', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('staff_fte', sa.Numeric(precision=6, scale=2), nullable=True))
        batch_op.add_column(sa.Column('funding', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('savings_method', sa.String(length=10), nullable=False, server_default='direct'))
        batch_op.add_column(sa.Column('savings_mwh_per_year', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('savings_t_co2e_per_year', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('savings_factor_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('savings_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('co_benefits', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('regional_value_added', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('obstacles', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('progress', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('adopted_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_measures_measure_type'), ['measure_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_measures_priority'), ['priority'], unique=False)



def downgrade():
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measures_priority'))
        batch_op.drop_index(batch_op.f('ix_measures_measure_type'))
        batch_op.drop_column('adopted_on')
        batch_op.drop_column('progress')
        batch_op.drop_column('obstacles')
        batch_op.drop_column('regional_value_added')
        batch_op.drop_column('co_benefits')
        batch_op.drop_column('savings_note')
        batch_op.drop_column('savings_factor_year')
        batch_op.drop_column('savings_t_co2e_per_year')
        batch_op.drop_column('savings_mwh_per_year')
        batch_op.drop_column('savings_method')
        batch_op.drop_column('funding')
        batch_op.drop_column('staff_fte')
        batch_op.drop_column('cost_per_year_eur')
        batch_op.drop_column('cost_one_off_eur')
        batch_op.drop_column('priority')
        batch_op.drop_column('ramp_up_years')
        batch_op.drop_column('duration')
        batch_op.drop_column('end_year')
        batch_op.drop_column('start_year')
        batch_op.drop_column('target_group')
        batch_op.drop_column('partners')
        batch_op.drop_column('lead_unit')
        batch_op.drop_column('starting_situation')
        batch_op.drop_column('goal')
        batch_op.drop_column('measure_type')

    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_values_indicator_id'))

    op.drop_table('indicator_values')
    with op.batch_alter_table('measure_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_milestones_measure_id'))

    op.drop_table('measure_milestones')
    with op.batch_alter_table('measure_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_indicators_measure_id'))

    op.drop_table('measure_indicators')
    with op.batch_alter_table('measure_energy_savings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_energy_savings_measure_id'))

    op.drop_table('measure_energy_savings')
    with op.batch_alter_table('plan_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_exports_state'))

    op.drop_table('plan_exports')
