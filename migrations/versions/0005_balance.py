"""Balance: energy carriers and emission factors per year (seeded from the checked BISKO reference
table with its sources), balance years with final energy per sector and carrier and the stored
calculation, scenario settings, path points and compensation options; the BISKO sector of each
field of action.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:49:23.669447

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# The carriers of the BISKO reference table (../shared/reference/bisko-emissionsfaktoren.csv)
# plus solar heat, which has no checked factor: staff enter one before it can be balanced.
CARRIERS = [
    # code, name, use, note
    ("strom", "Strom (Bundesmix)", "stationaer", "immer mit dem Bundesstrommix des Bilanzjahres bewertet"),
    ("erdgas", "Erdgas", "stationaer", ""),
    ("heizoel", "Heizöl", "stationaer", ""),
    ("fluessiggas", "Flüssiggas", "stationaer", ""),
    ("kohle", "Kohle", "stationaer", ""),
    ("holz", "Holz", "stationaer", ""),
    ("biogas", "Biogas", "stationaer", ""),
    ("deponie_klaergas", "Deponie-, Klär-, Grubengas", "stationaer", ""),
    ("fernwaerme", "Fernwärme", "stationaer", "lokaler Faktor aus exergetischer Allokation hat Vorrang vor dem Standardwert"),
    ("umweltwaerme", "Umweltwärme (Wärmepumpe)", "stationaer",
     "kein eigener Faktor: Wärmepumpenstrom = Umweltwärme / Jahresarbeitszahl, mit dem Strom-Faktor bewertet"),
    ("solarthermie", "Solarthermie", "stationaer", "kein geprüfter Faktor in der Referenztabelle"),
    ("benzin", "Benzin", "verkehr", "inkl. Bio-Beimischung"),
    ("diesel", "Diesel", "verkehr", "inkl. Bio-Beimischung"),
]
_PAPER = "BISKO Methodenpapier (Difu, Juli 2024)"
FACTORS = [
    # carrier, valid_from, t CO2e/MWh, source, note (the checked values of the reference table)
    ("erdgas", 2019, "0.247", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette, bezogen auf den Heizwert"),
    ("heizoel", 2019, "0.318", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette"),
    ("fluessiggas", 2022, "0.276", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette"),
    ("kohle", 2019, "0.433", f"{_PAPER}, Kap. 4, Tabelle 3",
     "mit Vorkette; Braun- und Steinkohle getrennt: Werte nicht geprüft, vom Anwender zu pflegen"),
    ("holz", 2021, "0.022", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette"),
    ("biogas", 2019, "0.124", f"{_PAPER}, Kap. 4, Tabelle 4", "mit Vorkette"),
    ("deponie_klaergas", 2021, "0.055", f"{_PAPER}, Anhang, Tabelle 11", ""),
    ("fernwaerme", 2019, "0.260", f"{_PAPER}, Tabelle 5 (Standardwert)",
     "gilt nur ohne lokale Erzeugungsdaten; lokaler Faktor aus exergetischer Allokation hat Vorrang"),
    ("strom", 2022, "0.505", f"{_PAPER}, Bundesstrommix 2022",
     "Wert je Bilanzjahr verschieden: andere Jahre vom Anwender zu pflegen"),
    ("benzin", 2021, "0.337", f"{_PAPER}, Kap. 5, Tabelle 10", "Well-to-Wheel"),
    ("diesel", 2021, "0.331", f"{_PAPER}, Kap. 5, Tabelle 10", "Well-to-Wheel"),
]
# Fields of action (migration 0002) -> the BISKO sector their measures save in; energy supply
# over the stationary sectors, cross-cutting measures over all sectors, by their emissions.
BISKO_SECTORS = {"wohngebaeude": "private_haushalte", "unternehmen": "ghd", "verwaltung": "kommunale_einrichtungen",
                 "mobilitaet": "verkehr", "energie": "stationaer"}


def seed():
    from datetime import datetime, timezone
    from decimal import Decimal
    carriers = sa.table("energy_carriers", sa.column("code", sa.String), sa.column("name", sa.String),
                        sa.column("use", sa.String), sa.column("note", sa.String), sa.column("position", sa.Integer),
                        sa.column("builtin", sa.Boolean))
    op.bulk_insert(carriers, [{"code": code, "name": name, "use": use, "note": note, "position": position,
                               "builtin": True} for position, (code, name, use, note) in enumerate(CARRIERS)])
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    factors = sa.table("emission_factors", sa.column("carrier", sa.String), sa.column("valid_from", sa.Integer),
                       sa.column("t_co2e_per_mwh", sa.Numeric), sa.column("source", sa.String),
                       sa.column("note", sa.String), sa.column("created_at", sa.DateTime),
                       sa.column("updated_at", sa.DateTime))
    op.bulk_insert(factors, [{"carrier": carrier, "valid_from": year, "t_co2e_per_mwh": Decimal(value),
                              "source": source, "note": note, "created_at": now, "updated_at": now}
                             for carrier, year, value, source, note in FACTORS])
    sectors = sa.table("sectors", sa.column("code", sa.String), sa.column("bisko_sector", sa.String))
    for code, bisko_sector in BISKO_SECTORS.items():
        op.execute(sectors.update().where(sectors.c.code == code).values(bisko_sector=bisko_sector))


def upgrade():
    op.create_table('compensation_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('capacity_t_per_year', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('cost_eur_per_t', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity_t_per_year >= 0', name=op.f('ck_compensation_options_capacity_not_negative')),
    sa.CheckConstraint('cost_eur_per_t >= 0', name=op.f('ck_compensation_options_cost_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compensation_options')),
    sa.UniqueConstraint('name', name=op.f('uq_compensation_options_name'))
    )
    op.create_table('energy_carriers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('use', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.CheckConstraint("use IN ('stationaer', 'verkehr')", name=op.f('ck_energy_carriers_use_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_energy_carriers')),
    sa.UniqueConstraint('code', name=op.f('uq_energy_carriers_code')),
    sa.UniqueConstraint('name', name=op.f('uq_energy_carriers_name'))
    )
    op.create_table('scenario_path_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.CheckConstraint("kind IN ('electricity', 'population')", name=op.f('ck_scenario_path_points_kind_known')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_scenario_path_points_value_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_path_points')),
    sa.UniqueConstraint('kind', 'year', name='uq_scenario_path_points_kind_year')
    )
    op.create_table('balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('heat_pump_apf', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('heat_pump_power_in_electricity', sa.Boolean(), nullable=False),
    sa.Column('municipal_in_ghd', sa.Boolean(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('result_json', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('heat_pump_apf > 0', name=op.f('ck_balances_apf_positive')),
    sa.CheckConstraint('population > 0', name=op.f('ck_balances_population_positive')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_balances_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balances')),
    sa.UniqueConstraint('year', name=op.f('uq_balances_year'))
    )
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_balances_published'), ['published'], unique=False)

    op.create_table('emission_factors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('valid_from', sa.Integer(), nullable=False),
    sa.Column('t_co2e_per_mwh', sa.Numeric(precision=10, scale=4), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('t_co2e_per_mwh >= 0', name=op.f('ck_emission_factors_factor_not_negative')),
    sa.ForeignKeyConstraint(['carrier'], ['energy_carriers.code'], name=op.f('fk_emission_factors_carrier_energy_carriers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_emission_factors_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emission_factors')),
    sa.UniqueConstraint('carrier', 'valid_from', name='uq_emission_factors_carrier_year')
    )
    with op.batch_alter_table('emission_factors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emission_factors_carrier'), ['carrier'], unique=False)

    op.create_table('scenario_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('base_year', sa.Integer(), nullable=True),
    sa.Column('target_year', sa.Integer(), nullable=False),
    sa.Column('annual_change_json', sa.Text(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_scenario_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_settings'))
    )
    op.create_table('balance_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('balance_id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('mwh', sa.Numeric(precision=16, scale=3), nullable=False),
    sa.Column('quality', sa.String(length=1), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.CheckConstraint("quality IS NULL OR quality IN ('A', 'B', 'C', 'D')", name=op.f('ck_balance_entries_quality_known')),
    sa.CheckConstraint("sector IN ('private_haushalte', 'ghd', 'industrie', 'kommunale_einrichtungen', 'verkehr')", name=op.f('ck_balance_entries_sector_known')),
    sa.CheckConstraint('mwh >= 0', name=op.f('ck_balance_entries_mwh_not_negative')),
    sa.ForeignKeyConstraint(['balance_id'], ['balances.id'], name=op.f('fk_balance_entries_balance_id_balances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['carrier'], ['energy_carriers.code'], name=op.f('fk_balance_entries_carrier_energy_carriers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_entries')),
    sa.UniqueConstraint('balance_id', 'sector', 'carrier', name='uq_balance_entries_sector_carrier')
    )
    with op.batch_alter_table('balance_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_balance_entries_balance_id'), ['balance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_balance_entries_carrier'), ['carrier'], unique=False)

    with op.batch_alter_table('sectors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bisko_sector', sa.String(length=32), nullable=True))

    seed()



def downgrade():
    with op.batch_alter_table('sectors', schema=None) as batch_op:
        batch_op.drop_column('bisko_sector')

    with op.batch_alter_table('balance_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_balance_entries_carrier'))
        batch_op.drop_index(batch_op.f('ix_balance_entries_balance_id'))

    op.drop_table('balance_entries')
    op.drop_table('scenario_settings')
    with op.batch_alter_table('emission_factors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emission_factors_carrier'))

    op.drop_table('emission_factors')
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_balances_published'))

    op.drop_table('balances')
    op.drop_table('scenario_path_points')
    op.drop_table('energy_carriers')
    op.drop_table('compensation_options')
