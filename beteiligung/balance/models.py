"""The energy and greenhouse-gas balance (BISKO) and the scenarios built on it.

- `EnergyCarrier`: the carriers a balance and a measure sheet can name (seeded with the
  codes of the BISKO reference table; staff add more);
- `EmissionFactor`: t CO2e per MWh of a carrier from a year on (`valid_from`), with its
  source; the factor for year Y is the one with the latest `valid_from` not after Y;
- `Balance` and `BalanceEntry`: final energy per sector and carrier of a balance year with
  its data-quality grade; the computed result is stored with the factors it used
  (`result`), so an old balance does not change when a factor is edited later;
- `ScenarioSettings`, `ScenarioPathPoint`, `CompensationOption`: the trend and
  climate-neutrality scenarios to the target year (the measures come from the plan).

The arithmetic lives in `analyse.bisko` and `analyse.scenario` (plain Python).
"""
import json
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime

CODE_MAX = 32  # = analyse.bisko.CARRIER_CODE and MeasureEnergySaving.carrier
NAME_MAX = 80
SOURCE_MAX = 300
NOTE_MAX = 300

SECTOR_LABELS = {
    "private_haushalte": _l("Private Haushalte"),
    "ghd": _l("Gewerbe, Handel, Dienstleistungen"),
    "industrie": _l("Industrie"),
    "kommunale_einrichtungen": _l("Kommunale Einrichtungen"),
    "verkehr": _l("Verkehr"),
}
SECTOR_SHORT_LABELS = {
    "private_haushalte": _l("Haushalte"),
    "ghd": _l("GHD"),
    "industrie": _l("Industrie"),
    "kommunale_einrichtungen": _l("Kommunal"),
    "verkehr": _l("Verkehr"),
}
# Sector.bisko_sector may also name a group: the measures of energy supply save in the
# stationary sectors (heat and power of buildings and industry), not in transport.
STATIONARY = "stationaer"
STATIONARY_SECTORS = ("private_haushalte", "ghd", "industrie", "kommunale_einrichtungen")
BISKO_SECTOR_CHOICES = {STATIONARY: _l("verteilt auf die stationären Sektoren (ohne Verkehr)")}
QUALITY_LABELS = {
    "A": _l("A – regionale Primärdaten"),
    "B": _l("B – hochgerechnete Primärdaten"),
    "C": _l("C – regionale Kennwerte und Statistiken"),
    "D": _l("D – bundesweite Kennwerte"),
}
USE_LABELS = {"stationaer": _l("stationär"), "verkehr": _l("Verkehr")}
PATH_KINDS = ("electricity", "population")


def _sector_check(column):
    values = ", ".join(f"'{code}'" for code in SECTOR_LABELS)
    return db.CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")


class EnergyCarrier(db.Model):
    """An energy carrier (Energieträger), identified by its code."""
    __tablename__ = "energy_carriers"
    audit_type = "energy_carrier"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(CODE_MAX), nullable=False, unique=True)  # e.g. strom; used by imports and the API
    name = db.Column(db.String(NAME_MAX), nullable=False, unique=True)  # shown to users
    use = db.Column(db.String(12), nullable=False, default="stationaer")  # stationaer | verkehr
    note = db.Column(db.String(NOTE_MAX), nullable=False, default="")
    position = db.Column(db.Integer, nullable=False, default=0)
    builtin = db.Column(db.Boolean, nullable=False, default=False)  # from the reference table; cannot be deleted

    __table_args__ = (db.CheckConstraint("use IN ('stationaer', 'verkehr')", name="use_known"),)

    def __repr__(self):
        return f"<EnergyCarrier {self.code}>"


class EmissionFactor(TimestampMixin, db.Model):
    """t CO2e per MWh of final energy of a carrier, from `valid_from` until a newer row."""
    __tablename__ = "emission_factors"
    audit_type = "emission_factor"

    id = db.Column(db.Integer, primary_key=True)
    carrier = db.Column(db.String(CODE_MAX), db.ForeignKey("energy_carriers.code", ondelete="RESTRICT"),
                        nullable=False, index=True)
    valid_from = db.Column(db.Integer, nullable=False)  # first balance year the factor applies to
    t_co2e_per_mwh = db.Column(db.Numeric(10, 4), nullable=False)
    source = db.Column(db.String(SOURCE_MAX), nullable=False, default="")
    note = db.Column(db.String(NOTE_MAX), nullable=False, default="")
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    __table_args__ = (
        db.UniqueConstraint("carrier", "valid_from", name="uq_emission_factors_carrier_year"),
        db.CheckConstraint("t_co2e_per_mwh >= 0", name="factor_not_negative"),
    )


class Balance(TimestampMixin, db.Model):
    """The balance of one year: its inputs, options and the stored calculation."""
    __tablename__ = "balances"
    audit_type = "balance"

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False, unique=True)
    population = db.Column(db.Integer, nullable=False)
    heat_pump_apf = db.Column(db.Numeric(4, 2), nullable=False, default=Decimal("3.2"))  # Jahresarbeitszahl
    heat_pump_power_in_electricity = db.Column(db.Boolean, nullable=False, default=True)
    municipal_in_ghd = db.Column(db.Boolean, nullable=False, default=False)
    published = db.Column(db.Boolean, nullable=False, default=False, index=True)
    note = db.Column(db.Text, nullable=False, default="")  # sources and remarks, shown publicly
    # The stored calculation: analyse.bisko.BalanceResult.to_dict() with factors_used; None
    # when the inputs changed and it could not be computed (then `error` says why).
    result_json = db.Column(db.Text, nullable=True)
    error = db.Column(db.Text, nullable=False, default="")
    computed_at = db.Column(UTCDateTime, nullable=True)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    entries = db.relationship("BalanceEntry", cascade="all, delete-orphan", back_populates="balance",
                              order_by="(BalanceEntry.sector, BalanceEntry.carrier)")

    __table_args__ = (
        db.CheckConstraint("population > 0", name="population_positive"),
        db.CheckConstraint("heat_pump_apf > 0", name="apf_positive"),
    )

    @property
    def result(self):
        return json.loads(self.result_json) if self.result_json else None

    def __repr__(self):
        return f"<Balance {self.year}>"


class BalanceEntry(db.Model):
    """Final energy of one sector and carrier in a balance year, with its data-quality grade."""
    __tablename__ = "balance_entries"

    id = db.Column(db.Integer, primary_key=True)
    balance_id = db.Column(db.Integer, db.ForeignKey("balances.id", ondelete="CASCADE"), nullable=False, index=True)
    sector = db.Column(db.String(CODE_MAX), nullable=False)
    carrier = db.Column(db.String(CODE_MAX), db.ForeignKey("energy_carriers.code", ondelete="RESTRICT"),
                        nullable=False, index=True)
    mwh = db.Column(db.Numeric(16, 3), nullable=False)
    quality = db.Column(db.String(1), nullable=True)  # A-D, None when not stated (counts as D)
    note = db.Column(db.String(NOTE_MAX), nullable=False, default="")  # source of the figure

    balance = db.relationship("Balance", back_populates="entries")

    __table_args__ = (
        db.UniqueConstraint("balance_id", "sector", "carrier", name="uq_balance_entries_sector_carrier"),
        db.CheckConstraint("mwh >= 0", name="mwh_not_negative"),
        db.CheckConstraint("quality IS NULL OR quality IN ('A', 'B', 'C', 'D')", name="quality_known"),
        _sector_check("sector"),
    )


class ScenarioSettings(TimestampMixin, db.Model):
    """The assumptions of the scenarios; there is one row (the plan has one pathway)."""
    __tablename__ = "scenario_settings"
    audit_type = "scenario"

    id = db.Column(db.Integer, primary_key=True)
    base_year = db.Column(db.Integer, nullable=True)  # a balance year; None: the newest published balance
    target_year = db.Column(db.Integer, nullable=False, default=2035)
    # sector code -> annual change of final energy in percent (e.g. "-0.8"), as JSON text
    annual_change_json = db.Column(db.Text, nullable=False, default="{}")
    published = db.Column(db.Boolean, nullable=False, default=False)
    note = db.Column(db.Text, nullable=False, default="")  # assumptions in words, shown publicly
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    @property
    def annual_change(self):
        return json.loads(self.annual_change_json or "{}")


class ScenarioPathPoint(db.Model):
    """A point of a path the trend interpolates: the electricity factor or the population in a year."""
    __tablename__ = "scenario_path_points"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(12), nullable=False)  # electricity | population
    year = db.Column(db.Integer, nullable=False)
    value = db.Column(db.Numeric(14, 4), nullable=False)

    __table_args__ = (
        db.UniqueConstraint("kind", "year", name="uq_scenario_path_points_kind_year"),
        db.CheckConstraint("kind IN ('electricity', 'population')", name="kind_known"),
        db.CheckConstraint("value >= 0", name="value_not_negative"),
    )


class CompensationOption(db.Model):
    """A way to compensate residual emissions, e.g. moor rewetting, with capacity and cost."""
    __tablename__ = "compensation_options"
    audit_type = "compensation_option"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(NAME_MAX), nullable=False, unique=True)
    description = db.Column(db.Text, nullable=False, default="")
    capacity_t_per_year = db.Column(db.Numeric(14, 2), nullable=False)
    cost_eur_per_t = db.Column(db.Numeric(10, 2), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)

    __table_args__ = (
        db.CheckConstraint("capacity_t_per_year >= 0", name="capacity_not_negative"),
        db.CheckConstraint("cost_eur_per_t >= 0", name="cost_not_negative"),
    )
