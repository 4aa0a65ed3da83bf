"""Writing measure sheets: field rules, numbers, duration, savings by carrier, audit."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from beteiligung.extensions import db
from beteiligung.measures import savings, services
from beteiligung.measures.models import Measure
from beteiligung.measures.services import Indicator, Milestone, SheetErrors
from beteiligung.measures.sheet import field_by_name, parse_number


@pytest.fixture
def sheet_ctx(app, idea_setup):
    with app.test_request_context():
        yield


@pytest.fixture
def factors(monkeypatch):
    """Emission factors as the balance module will provide them."""
    monkeypatch.setattr(savings, "_providers", [])
    table = {"erdgas": Decimal("0.247"), "heizoel": Decimal("0.318"), "strom": Decimal("0.505")}
    savings.factor_provider(lambda year: savings.FactorSet(2022, table, "Testbilanz"))
    return table


def sector(code):
    from beteiligung.ideas.services import find_sector
    return find_sector(code)


def errors_of(raw, **parts):
    with pytest.raises(SheetErrors) as caught:
        services.save_sheet(None, None, raw, **parts)
    return {error.field: error.message for error in caught.value.errors}


@pytest.mark.parametrize("text, expected", [
    ("1.250.000,50", "1250000.50"), ("1250,5", "1250.5"), ("1250.5", "1250.5"), ("1,250.5", "1250.5"),
    ("0.5", "0.5"), ("-1.100", "-1100"), ("1.250", "1250"), ("12", "12"), (" 3 000 ", "3000"), (7, "7"),
    (2.5, "2.5"), ("−40", "-40"), ("0,125", "0.125"), ("1,125", "1.125"), ("1,250,000", "1250000"),
    ("0.125", "0.125"), ("2.125,75", "2125.75"),
])
def test_numbers_are_read_the_german_and_the_english_way(text, expected):
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "zwölf", "1,2,3", "1.2.3,4,5", "nan", "inf", "1e999999999", True])
def test_what_is_no_number_stays_none(text):
    assert parse_number(text) is None


def test_a_new_sheet_gets_the_next_number_of_its_field_and_keeps_its_values(sheet_ctx):
    first = services.save_sheet(None, None, {"title": "Solardächer auf Schulen", "sector": "energie",
                                             "measure_type": "technisch", "priority": "hoch",
                                             "cost_one_off_eur": "1.200.000", "staff_fte": "1,5",
                                             "start_year": "2026", "end_year": "2028", "progress": "20 %",
                                             "adopted_on": "12.03.2026"})
    second = services.save_sheet(None, None, {"title": "Wärmenetz Lobeda", "sector": "energie"})
    position = sector("energie").position
    assert (first.number, second.number) == (f"M-{position}.1", f"M-{position}.2")
    assert first.measure_type == "technical" and first.priority == "high"
    assert first.cost_one_off_eur == Decimal("1200000.00") and first.staff_fte == Decimal("1.5")
    assert first.duration == "short" and first.progress == 20 and str(first.adopted_on) == "2026-03-12"
    assert second.status == "planned" and second.savings_method == "direct" and second.ramp_up_years == 1


@pytest.mark.parametrize("start, end, duration", [(2026, 2028, "short"), (2026, 2029, "medium"),
                                                   (2026, 2032, "medium"), (2026, 2033, "long")])
def test_the_duration_class_follows_start_and_end(sheet_ctx, start, end, duration):
    measure = services.save_sheet(None, None, {"title": "Laufzeit", "sector": "energie", "start_year": start,
                                               "end_year": end, "duration": "long" if duration != "long" else ""})
    assert measure.duration == duration


def test_bad_values_are_all_reported_and_nothing_is_written(sheet_ctx):
    problems = errors_of({"title": "x" * 201, "sector": "gibtsnicht", "priority": "dringend",
                          "start_year": "2030", "end_year": "2027", "progress": "120", "cost_one_off_eur": "viel",
                          "number": "4.2", "adopted_on": "31.02.2026"})
    assert set(problems) == {"title", "sector", "priority", "end_year", "progress", "cost_one_off_eur", "number",
                             "adopted_on"}
    assert "200 Zeichen" in problems["title"] and "hoch, mittel, niedrig" in problems["priority"]
    assert "vor dem Beginn" in problems["end_year"]
    assert db.session.scalar(select(db.func.count(Measure.id))) == 0


def test_title_and_number_stay_unique(sheet_ctx):
    first = services.save_sheet(None, None, {"title": "Radschnellweg nach Lobeda", "sector": "mobilitaet"})
    problems = errors_of({"title": "RADSCHNELLWEG nach Lobeda", "sector": "mobilitaet", "number": first.number})
    assert first.number in problems["title"] and "Radschnellweg" in problems["number"]
    # the sheet itself may keep both when it is edited
    services.save_sheet(first, None, {"title": "Radschnellweg nach Lobeda", "sector": "mobilitaet",
                                      "number": first.number, "progress": "10"})
    assert first.progress == 10


def test_required_fields_and_parts_are_checked(sheet_ctx):
    problems = errors_of({"title": "  ", "sector": ""},
                         milestones=[Milestone("")], energy=[("erdgas", Decimal(1)), ("erdgas", Decimal(2)),
                                                             ("uran", Decimal(3))],
                         indicators=[Indicator("Ladepunkte", values=[(2024, Decimal(1), ""),
                                                                      (2024, Decimal(2), "")])])
    assert set(problems) == {"title", "sector", "milestones", "energy", "indicators"}


def test_html_stays_text(sheet_ctx):
    measure = services.save_sheet(None, None, {"title": "<script>alert(1)</script> Beratung", "sector": "energie",
                                               "description": "<b>fett</b>\r\nZeile\x00"})
    assert measure.title == "<script>alert(1)</script> Beratung"
    assert measure.description == "<b>fett</b>\nZeile"


def test_savings_from_carriers_wait_for_the_factors_of_the_balance(sheet_ctx, monkeypatch):
    monkeypatch.setattr(savings, "_providers", [])
    measure = services.save_sheet(None, None, {"title": "Heizungstausch", "sector": "wohngebaeude",
                                               "savings_method": "carriers"},
                                  energy=[("erdgas", Decimal("1000")), ("strom", Decimal("-250"))])
    assert measure.savings_mwh_per_year == Decimal("750.00")
    assert measure.savings_t_co2e_per_year is None
    assert "sobald die Emissionsfaktoren" in services.savings_explanation(measure)


def test_savings_from_carriers_use_the_factors(sheet_ctx, factors):
    measure = services.save_sheet(None, None, {"title": "Heizungstausch", "sector": "wohngebaeude",
                                               "savings_method": "berechnet aus der eingesparten Energie je "
                                                                 "Energieträger"},
                                  energy=[("erdgas", Decimal("1000")), ("heizoel", Decimal("200")),
                                          ("strom", Decimal("-300")), ("umweltwaerme", Decimal("-900"))])
    # 1000 * 0.247 + 200 * 0.318 - 300 * 0.505; environmental heat has no emissions of its own
    assert measure.savings_t_co2e_per_year == Decimal("159.10")
    assert measure.savings_mwh_per_year == Decimal("0.00")
    assert measure.savings_factor_year == 2022
    assert "Bilanzjahres 2022" in services.savings_explanation(measure)


def test_a_carrier_without_factor_is_named_not_guessed(sheet_ctx, factors):
    measure = services.save_sheet(None, None, {"title": "Holz statt Öl", "sector": "wohngebaeude",
                                               "savings_method": "carriers"},
                                  energy=[("heizoel", Decimal("100")), ("holz", Decimal("-90"))])
    assert measure.savings_t_co2e_per_year is None
    assert "holz" in services.savings_explanation(measure)


def test_direct_savings_are_kept_as_entered(sheet_ctx, factors):
    measure = services.save_sheet(None, None, {"title": "Suffizienzberatung", "sector": "uebergreifend",
                                               "savings_mwh_per_year": "2.000", "savings_t_co2e_per_year": "640,5"})
    assert measure.savings_t_co2e_per_year == Decimal("640.5") and measure.savings_factor_year is None
    assert "direkt angegeben" in services.savings_explanation(measure)


def test_changes_are_recorded_with_old_and_new_values(sheet_ctx):
    from beteiligung.audit.models import AuditEntry

    measure = services.save_sheet(None, None, {"title": "Carsharing-Stationen", "sector": "mobilitaet"})
    services.save_sheet(measure, None, {"title": "Carsharing-Stationen", "sector": "mobilitaet",
                                        "status": "in Umsetzung", "progress": "30"},
                        milestones=[Milestone("Ausschreibung")])
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "measure.updated")).one()
    assert entry.old_values["status"] == "planned" and entry.new_values["status"] == "in_progress"
    assert entry.new_values["milestones"] == [["Ausschreibung", "None", "None"]]


def test_done_means_complete(sheet_ctx):
    measure = services.save_sheet(None, None, {"title": "LED-Straßenbeleuchtung", "sector": "verwaltung",
                                               "status": "umgesetzt"})
    assert measure.progress == 100


def test_every_field_has_a_german_label():
    assert field_by_name("savings_t_co2e_per_year").label
    assert str(field_by_name("measure_type").choices[next(iter(field_by_name("measure_type").choices))]) == \
        "technisch"
