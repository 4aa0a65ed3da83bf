"""The public balance pages: the newest and a given published year with charts, tables, rules,
factors and CSV downloads that reproduce the balance with `python -m analyse balance`, and the
pathway to 2035 with measures and compensation (hand-calculated figures: tests/balance_data.py)."""
import csv
import html as htmllib
import io
import json
import re

import pytest

from analyse import cli
from beteiligung.balance.models import Balance
from beteiligung.extensions import db
from beteiligung.measures.models import Measure

from .balance_data import SAVINGS_2035, make_balance, make_scenario, transport_trend_2035, trend_2035


@pytest.fixture
def balance(app):
    """The published Beispielhausen balance 2021 (69,450 t CO2e)."""
    with app.app_context():
        return make_balance().year


@pytest.fixture
def scenario(app, balance):
    with app.app_context():
        make_scenario()


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def de(value, digits=0):
    """A number the German way, as the pages show it: 69450.4 -> "69.450"."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def section(html, heading_id):
    """The HTML from the heading with this id to the next h2."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("<h2", start)
    return html[start:end if end != -1 else None]


def table_rows(fragment):
    """The rows of the first table in the fragment as lists of cell texts."""
    table = fragment[fragment.index("<table"):fragment.index("</table>")]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([htmllib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


def read_csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def assert_accessible_structure(html):
    """Headings without skipped levels, every table with a caption and th with scope, charts named."""
    main = html[html.index("<main"):html.index("</main>")]
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", main)]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, levels
    tables = re.findall(r"<table.*?</table>", main, re.S)
    assert tables
    for table in tables:
        assert "<caption" in table
        assert all("scope=" in th for th in re.findall(r"<th[\s>][^>]*", table)), table[:200]
    for chart_id in re.findall(r'<div class="chart" id="([^"]+)">', main):
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in main
        assert f'<title id="{chart_id}-title">' in main and f'<desc id="{chart_id}-desc">' in main


# --- which balance is shown ---------------------------------------------------------------------------

def test_without_a_published_balance_the_page_says_so(app, client):
    with app.app_context():
        make_balance(published=False)
    html = page(client, "/bilanz/")
    assert "Es ist noch keine Bilanz veröffentlicht." in html
    assert "69.450" not in html and "/bilanz/2021" not in html


def test_an_unpublished_balance_is_not_public(app, client):
    with app.app_context():
        make_balance(published=False)
    for url in ("/bilanz/2021", "/bilanz/2021/bilanz.csv", "/bilanz/2021/eingaben.csv", "/bilanz/2021/faktoren.csv",
                "/bilanz/1999"):
        assert client.get(url).status_code == 404, url


def test_a_published_balance_without_a_valid_calculation_is_not_shown(app, client, balance):
    with app.app_context():
        found = db.session.scalar(db.select(Balance).filter_by(year=2021))
        found.result_json, found.error = None, "Für den Energieträger „holz“ gibt es keinen Emissionsfaktor."
        db.session.commit()
    assert client.get("/bilanz/2021").status_code == 404
    assert "Es ist noch keine Bilanz veröffentlicht." in page(client, "/bilanz/")


def test_the_index_shows_the_newest_published_year_and_links_the_others(app, client):
    with app.app_context():
        make_balance(2021)
        make_balance(2022, with_factors=False)  # diesel 0.32 from 2022: 30,000 MWh x 0.32 = 9,600 t
        make_balance(2023, published=False, with_factors=False)
    html = page(client, "/bilanz/")
    assert "<h1>Energie- und Treibhausgasbilanz 2022</h1>" in html
    figures = section(html, "kennzahlen")
    assert "<strong>69.150</strong>" in figures  # 69,450 - 300
    further = section(html, "weiter")
    assert 'href="/bilanz/2021"' in further and "/bilanz/2023" not in html and 'href="/bilanz/2022"' not in further
    assert 'href="/bilanz/szenario"' in further
    html = page(client, "/bilanz/2021")
    assert "<h1>Energie- und Treibhausgasbilanz 2021</h1>" in html
    assert 'href="/bilanz/2022"' in section(html, "weiter")


# --- the page of a balance -----------------------------------------------------------------------------

def test_key_figures_and_the_data_quality_explanation(client, balance):
    html = page(client, "/bilanz/2021")
    figures = section(html, "kennzahlen")
    for text in ("<strong>69.450</strong> t CO₂e", "<strong>5,56</strong> t CO₂e je Einwohnerin und Einwohner",
                 "<strong>221.160</strong> MWh Endenergie", "<strong>12.500</strong> Einwohnerinnen",
                 "<strong>0,62</strong> Datengüte"):
        assert text in figures, text
    assert "A (regionale Primärdaten) = 1, B (hochgerechnete Primärdaten) = 0,5" in figures
    assert "C (regionale Kennwerte und Statistiken) = 0,25, D (bundesweite Kennwerte) = 0" in figures
    # industrie heizoel has no grade: 1,000 of 221,160 MWh = 0.45 %
    assert "1.000 MWh (0,5 % der Endenergie) hatten keine Angabe zur Güte und zählen wie D." in figures


def test_emissions_and_energy_by_sector_and_carrier_as_stacked_charts_with_tables(client, balance):
    html = page(client, "/bilanz/2021")
    emissions = section(html, "emissionen")
    assert 'id="chart-emissionen"' in emissions and "<table>" in emissions
    rows = {row[0]: row[1:] for row in table_rows(emissions)}
    assert rows["Energieträger"] == ["Haushalte (t CO₂e)", "GHD (t CO₂e)", "Industrie (t CO₂e)",
                                     "Kommunal (t CO₂e)", "Verkehr (t CO₂e)", "Summe (t CO₂e)"]
    assert rows["Strom (Bundesmix)"] == ["7.200", "4.704", "9.600", "912", "240", "22.656"]
    assert rows["Biogas"] == ["–", "–", "120", "–", "–", "120"]
    assert rows["Summe"] == ["22.320", "8.940", "17.540", "2.010", "18.640", "69.450"]
    # Ten carriers: the seven largest each with its own pattern, the other three as one part.
    assert "übrige Energieträger (Holz, Biogas, Solarthermie)" in emissions
    assert "Gewerbe, Handel, Dienstleistungen – Strom (Bundesmix): 4.704 t CO₂e" in emissions
    assert ">22.320 t CO₂e</text>" in emissions  # the sector's total beside its bar
    energy = section(html, "endenergie")
    rows = {row[0]: row[1:] for row in table_rows(energy)}
    assert rows["Strom (Bundesmix)"] == ["15.000", "9.800", "20.000", "1.900", "500", "47.200"]
    assert rows["Umweltwärme (Wärmepumpe)"] == ["3.200", "640", "–", "320", "–", "4.160"]
    assert rows["Summe"] == ["80.000", "26.940", "52.000", "6.720", "55.500", "221.160"]


def test_emissions_by_carrier_largest_first(client, balance):
    carriers = section(page(client, "/bilanz/2021"), "energietraeger")
    assert 'id="chart-energietraeger"' in carriers
    rows = table_rows(carriers)
    assert rows[0] == ["Energieträger", "Emissionen (t CO₂e)", "Anteil (%)", "Endenergie (MWh)"]
    assert [row[0] for row in rows[1:4]] == ["Strom (Bundesmix)", "Erdgas", "Diesel"]
    assert rows[1] == ["Strom (Bundesmix)", "22.656", "32,6", "47.200"]  # 22,656 / 69,450
    assert rows[-1] == ["Summe", "69.450", "100", "221.160"]


def test_data_quality_shares_per_grade(client, balance):
    quality = section(page(client, "/bilanz/2021"), "datenguete")
    assert 'id="chart-datenguete"' in quality
    rows = {row[0]: row[1:] for row in table_rows(quality)}
    assert rows["A – regionale Primärdaten"] == ["1", "116.020", "52,5"]  # 116,020 / 221,160
    assert rows["B – hochgerechnete Primärdaten"] == ["0,5", "34.840", "15,8"]
    assert rows["C – regionale Kennwerte und Statistiken"] == ["0,25", "13.500", "6,1"]
    assert rows["D – bundesweite Kennwerte"] == ["0", "55.800", "25,2"]
    assert rows["ohne Angabe (zählt wie D)"] == ["0", "1.000", "0,5"]
    assert rows["Datengüte (gewichteter Mittelwert)"] == ["0,62", "221.160", "100"]


def test_the_rules_adjustments_and_factors_used(app, client, balance):
    method = section(page(client, "/bilanz/2021"), "methode")
    assert "<dd>3,2 (Wärmepumpenstrom" in method
    assert "ja: der Versorger hatte sie in Gewerbe, Handel, Dienstleistungen mitgezählt" in method
    assert "ja: der gemeldete Strom enthielt den Wärmepumpenstrom" in method
    adjustments = table_rows(method)
    assert ["Kommunale Einrichtungen aus GHD", "Gewerbe, Handel, Dienstleistungen", "Strom (Bundesmix)",
            "2.000"] in adjustments
    assert ["Wärmepumpenstrom aus dem Strom", "Private Haushalte", "Strom (Bundesmix)", "1.000"] in adjustments
    factors = table_rows(method[method.index('id="faktoren"'):])
    by_name = {row[0]: row[1:] for row in factors}
    assert by_name["Strom (Bundesmix)"] == ["0,48", "2021", "Beispiel-Faktoren 2021"]
    assert by_name["Diesel"] == ["0,33", "2019", "Beispiel-Faktoren 2019"]  # not 0.32 from 2022
    assert by_name["Umweltwärme (Wärmepumpe)"][0] == "0,15"  # 0.48 / 3.2
    assert "Fernwärme" in by_name and "Flüssiggas" not in by_name  # only the carriers of the balance
    assert ("<p><code>python -m analyse balance eingaben-2021.csv --factors faktoren-2021.csv --year 2021 "
            "--population 12500 --municipal-in-ghd</code></p>") in method


def test_the_page_keeps_the_factors_it_was_computed_with(app, client, balance):
    from beteiligung.balance.models import EmissionFactor

    with app.app_context():
        strom = db.session.scalar(db.select(EmissionFactor).filter_by(carrier="strom", valid_from=2021))
        strom.t_co2e_per_mwh = 0.5
        db.session.commit()
    html = page(client, "/bilanz/2021")
    assert "<strong>69.450</strong>" in html
    assert ["Strom (Bundesmix)", "0,48", "2021", "Beispiel-Faktoren 2021"] in table_rows(
        html[html.index('id="faktoren"'):])


def test_the_note_is_shown_as_escaped_text(client, balance):
    html = page(client, "/bilanz/2021")
    assert "<script>alert" not in html and "<b>fett</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;b&gt;fett&lt;/b&gt;" in section(html, "anmerkungen")


def test_the_balance_page_is_accessible(client, balance):
    html = page(client, "/bilanz/2021")
    assert_accessible_structure(html)
    assert 'aria-current="page"' in html[:html.index("<main")] and ">Bilanz</a>" in html


# --- CSV downloads ---------------------------------------------------------------------------------------

def test_balance_csv_has_one_row_per_sector_and_carrier(client, balance):
    rows = read_csv(client.get("/bilanz/2021/bilanz.csv"))
    assert rows[0] == ["Sektor", "Sektor-Code", "Energieträger", "Energieträger-Code", "Endenergie gemeldet (MWh)",
                       "Endenergie bilanziert (MWh)", "Emissionsfaktor (t CO2e/MWh)", "Emissionen (t CO2e)",
                       "Datengüte"]
    assert len(rows) == 1 + 23
    assert ["Gewerbe, Handel, Dienstleistungen", "ghd", "Strom (Bundesmix)", "strom", "12000", "9800", "0,48",
            "4704", "A"] in rows
    assert ["Private Haushalte", "private_haushalte", "Umweltwärme (Wärmepumpe)", "umweltwaerme", "3200", "3200",
            "0,15", "480", "B"] in rows
    assert ["Industrie", "industrie", "Heizöl", "heizoel", "1000", "1000", "0,32", "320", ""] in rows
    total = sum(float(row[7].replace(",", ".")) for row in rows[1:])
    assert total == pytest.approx(69450, rel=1e-9)


def test_entries_and_factors_csv_are_the_input_in_the_cli_format(client, balance):
    entries = read_csv(client.get("/bilanz/2021/eingaben.csv"))
    assert entries[0] == ["sector", "carrier", "mwh", "quality", "note"]
    assert ["kommunale_einrichtungen", "fernwaerme", "1500", "A", "Energiebericht der Stadt"] in entries
    assert ["industrie", "heizoel", "1000", "", "Quelle unbekannt"] in entries
    assert len(entries) == 1 + 23
    factors = read_csv(client.get("/bilanz/2021/faktoren.csv"))
    assert factors[0] == ["carrier", "t_co2e_per_mwh", "valid_from", "source"]
    by_carrier = {row[0]: row[1:] for row in factors[1:]}
    assert by_carrier["strom"] == ["0,48", "2021", "Beispiel-Faktoren 2021"]
    assert by_carrier["biogas"] == ["0,12", "1990", "Beispiel-Faktoren ohne Jahr"]
    assert "umweltwaerme" not in by_carrier  # the CLI computes it from strom and the APF
    assert set(by_carrier) == {"strom", "erdgas", "heizoel", "holz", "biogas", "fernwaerme", "solarthermie",
                               "benzin", "diesel"}


def test_decimal_values_survive_the_download(app, client):
    """A point before three digits would be read as thousands: 12.345 MWh must not become 12,345."""
    with app.app_context():
        balance = make_balance()
        for entry in balance.entries:
            if (entry.sector, entry.carrier) == ("private_haushalte", "holz"):
                entry.mwh = "3000.125"
        from beteiligung.balance import services
        services.recompute(balance)
        db.session.commit()
    entries = read_csv(client.get("/bilanz/2021/eingaben.csv"))
    assert ["private_haushalte", "holz", "3000,125", "C", "Schornsteinfeger"] in entries
    rows = read_csv(client.get("/bilanz/2021/bilanz.csv"))
    assert ["Private Haushalte", "private_haushalte", "Holz", "holz", "3000,125", "3000,125", "0,02", "60,0025",
            "C"] in rows


@pytest.mark.parametrize("options, total, flag", [
    ({}, 69450, None),
    ({"heat_pump_power_in_electricity": False}, 70074, "--heat-pump-power-separate"),
])
def test_the_downloads_reproduce_the_balance_with_the_command_line(app, client, capsys, tmp_path, options, total,
                                                                     flag):
    with app.app_context():
        make_balance(**options)
    html = page(client, "/bilanz/2021")
    command = htmllib.unescape(re.search(r"<p><code>(.*?)</code></p>", html).group(1)).split()
    assert command[:3] == ["python", "-m", "analyse"]
    assert (flag in command) if flag else "--heat-pump-power-separate" not in command
    for name, url in (("eingaben-2021.csv", "/bilanz/2021/eingaben.csv"),
                      ("faktoren-2021.csv", "/bilanz/2021/faktoren.csv")):
        response = client.get(url)
        assert f'filename="{name}"' in response.headers["Content-Disposition"]
        (tmp_path / name).write_bytes(response.data)
        command[command.index(name)] = str(tmp_path / name)
    capsys.readouterr()
    assert cli.main(command[3:] + ["--json"]) == 0
    computed = json.loads(capsys.readouterr().out)
    stored = client.get("/api/v1/balances/2021").json
    assert computed["total_t_co2e"] == pytest.approx(total, rel=1e-4)
    assert set(stored) - {"computed_at", "note"} == set(computed)
    for key in ("total_t_co2e", "per_capita_t_co2e", "final_energy_mwh", "quality_index", "quality_ungraded_mwh"):
        assert stored[key] == pytest.approx(computed[key], rel=1e-4), key
    for key in ("by_sector", "by_carrier", "by_sector_mwh", "by_carrier_mwh"):
        assert stored[key] == pytest.approx(computed[key], rel=1e-4), key
    assert [(row["sector"], row["carrier"], row["quality"]) for row in stored["rows"]] == [
        (row["sector"], row["carrier"], row["quality"]) for row in computed["rows"]]
    for mine, theirs in zip(stored["rows"], computed["rows"]):
        assert mine["t_co2e"] == pytest.approx(theirs["t_co2e"], rel=1e-4)
        assert mine["mwh"] == pytest.approx(theirs["mwh"], rel=1e-4)
    assert stored["options"] == computed["options"]


def test_a_heat_pump_factor_the_command_line_cannot_take_is_pointed_out(app, client):
    from decimal import Decimal

    with app.app_context():
        make_balance(heat_pump_apf=Decimal("4"))
    method = section(page(client, "/bilanz/2021"), "methode")
    assert "<dd>4 (Wärmepumpenstrom" in method
    # private households: 3,200 MWh environmental heat / 4 = 800 MWh heat-pump power out of strom
    assert ["Wärmepumpenstrom aus dem Strom", "Private Haushalte", "Strom (Bundesmix)", "800"] in table_rows(method)
    assert "mit einer Jahresarbeitszahl von 4; das Kommandozeilenprogramm kennt nur 3,2" in method


def test_a_heat_pump_balance_without_electricity_rows_still_exports_the_strom_factor(app, client):
    from beteiligung.balance import services
    from beteiligung.balance.services import EntryInput

    with app.app_context():
        balance = make_balance(heat_pump_power_in_electricity=False)
        services.replace_entries(balance, [EntryInput("private_haushalte", "umweltwaerme", 3200, "B"),
                                           EntryInput("private_haushalte", "erdgas", 1000, "A")])
        db.session.commit()
        assert "strom" not in balance.result["factors_used"]
    factors = read_csv(client.get("/bilanz/2021/faktoren.csv"))
    assert ["strom", "0,48", "2021"] in [row[:3] for row in factors]  # 0.15 x 3.2, derived back
    assert "umweltwaerme" not in [row[0] for row in factors]


def test_the_page_runs_a_bounded_number_of_statements(app, client, count_queries):
    with app.app_context():
        make_balance(2021)
        make_balance(2022, with_factors=False)
    client.get("/bilanz/")  # warm up
    with count_queries() as newest:
        assert client.get("/bilanz/").status_code == 200
    with app.app_context():
        for year in range(2023, 2028):
            make_balance(year, with_factors=False)
    with count_queries() as more:
        html = page(client, "/bilanz/2021")
    assert html.count('href="/bilanz/20') >= 6
    assert more.n == newest.n <= 4, more.statements


# --- the scenario ------------------------------------------------------------------------------------------

def test_the_scenario_page_without_published_settings_is_friendly(app, client, balance):
    html = page(client, "/bilanz/szenario")
    assert "Die Szenarien sind noch nicht veröffentlicht." in html
    assert 'href="/bilanz/2021"' in html
    assert client.get("/bilanz/szenario.csv").status_code == 404
    with app.app_context():
        make_scenario(published=False)
    assert "Die Szenarien sind noch nicht veröffentlicht." in page(client, "/bilanz/szenario")


def test_the_scenario_needs_a_published_base_balance(app, client):
    with app.app_context():
        make_balance(published=False)
        make_scenario()
    html = page(client, "/bilanz/szenario")
    assert "Für das Basisjahr gibt es noch keine berechnete, veröffentlichte Bilanz." in html
    assert "30.414" not in html


def test_the_pathway_key_figures(client, scenario):
    html = page(client, "/bilanz/szenario")
    trend = trend_2035()
    residual = trend - SAVINGS_2035
    figures = section(html, "kennzahlen")
    assert "<strong>69.450</strong> t CO₂e im Basisjahr 2021" in figures
    trend_share = de((1 - trend / 69450) * 100, 1)
    assert f"<strong>{de(trend)}</strong> t CO₂e im Trend 2035 ({trend_share} % weniger)" in figures
    assert (f"<strong>{de(residual)}</strong> t CO₂e Restemissionen im Szenario 2035 "
            f"({de((1 - residual / 69450) * 100, 1)} % weniger)") in figures
    assert f"<strong>{de(residual - 23000)}</strong> t CO₂e bleiben nach der Kompensation offen" in figures
    assert "zusätzlich 17.000 t CO₂e" in figures
    assert f"decken davon 23.000 t CO₂e für 1.760.000 € im Jahr; {de(residual - 23000)} t CO₂e" in figures


def test_the_pathway_chart_and_its_table_per_year(client, scenario):
    path = section(page(client, "/bilanz/szenario"), "pfad")
    assert 'id="chart-pfad"' in path and "<polyline" in path
    for label in ("Zielpfad (linear auf null im Zieljahr)", "Trend (ohne Maßnahmen)",
                  "Klimaneutralitäts-Szenario (mit Maßnahmen)"):
        assert label in path
    rows = {row[0]: row[1:] for row in table_rows(path)}
    assert len(rows) == 1 + 15
    assert rows["2021"] == ["69.450", "69.450", "69.450", "0"]
    assert rows["2028"][0] == "34.725"  # the target line: 69,450 x 7/14
    assert rows["2025"][3] == "6.000"  # M-1.1 2/4 of 8,000 + M-4.1 in full
    assert rows["2030"][3] == "11.000"  # + M-5.1 1/10 of 10,000
    assert rows["2034"][3] == "16.000"  # 8,000 + 2,000 + 5/10 of 10,000 + M-7.1 in full
    assert rows["2035"] == ["0", de(trend_2035()), de(trend_2035() - SAVINGS_2035), "17.000"]


def test_the_sectors_measures_and_assumptions(client, scenario, app):
    html = page(client, "/bilanz/szenario")
    sectors = {row[0]: row[1:] for row in table_rows(section(html, "sektoren"))}
    assert sectors["Verkehr"][:2] == ["18.640", de(transport_trend_2035())]
    assert sectors["Industrie"][:2] == ["17.540", "13.940"]  # strom 20,000 x 0.30 + 7,500 + 120 + 320
    assert sectors["Summe"][:3] == ["69.450", de(trend_2035()), de(trend_2035() - SAVINGS_2035)]
    measures = section(html, "massnahmen")
    with app.app_context():
        ids = {measure.number: measure.id for measure in db.session.scalars(db.select(Measure))}
    rows = {row[0]: row[1:] for row in table_rows(measures)}
    assert rows["M-1.1"] == ["Wärmepumpen im Bestand", "Private Haushalte", "2024", "4", "8.000", "8.000"]
    assert rows["M-4.1"] == ["Radverkehr <stärken>", "Verkehr", "2023", "2", "2.000", "2.000"]
    assert rows["M-5.1"] == ["Solarpflicht", "verteilt auf die stationären Sektoren (ohne Verkehr)", "2030", "10",
                             "10.000", "6.000"]
    assert rows["M-7.1"] == ["Klimabildung", "verteilt auf alle Sektoren", "2034", "1", "1.000", "1.000"]
    assert f'<a href="/massnahmen/{ids["M-1.1"]}">Wärmepumpen im Bestand</a>' in measures
    assert "Radverkehr &lt;stärken&gt;" in measures
    left_out = {row[0]: row[1:] for row in table_rows(measures[measures.index('id="nicht-enthalten"'):])}
    assert left_out == {"Nr.": ["Maßnahme", "Grund"], "M-6.1": ["Zurückgestellt", "zurückgestellt"],
                        "M-6.2": ["Ohne Einsparung", "keine abgeschätzte Einsparung"],
                        "M-6.3": ["Ohne Beginn", "kein Beginn angegeben"]}
    assumptions = section(html, "annahmen")
    changes = {row[0]: row[1:] for row in table_rows(assumptions)}
    assert changes["Verkehr"] == ["-10"] and changes["Industrie"] == ["0"]
    paths = {row[0]: row[1:] for row in table_rows(assumptions[assumptions.index('aria-labelledby="strom-caption"'):])}
    assert paths["2021"] == ["0,48", "12.500"]
    assert paths["2025"] == ["0,4", "11.786"]  # 0.48 - 4 x 0.02; 12,500 - 4/14 x 2,500
    assert paths["2035"] == ["0,3", "10.000"]
    assert "Annahmen nach dem Klima-Aktionsplan &lt;i&gt;Entwurf&lt;/i&gt;." in assumptions


def test_compensation_cheapest_first_with_the_gap(client, scenario):
    compensation = section(page(client, "/bilanz/szenario"), "kompensation")
    assert 'id="chart-kompensation"' in compensation
    rows = table_rows(compensation)
    assert rows[1:4] == [["Aufforstung", "5.000", "40 €", "5.000", "200.000 €"],
                         ["Moor", "10.000", "60 €", "10.000", "600.000 €"],
                         ["Zertifikate", "8.000", "120 €", "8.000", "960.000 €"]]
    assert rows[4] == ["gedeckt", "", "", "23.000", "1.760.000 €"]
    assert rows[5] == ["nicht gedeckt", "", "", de(trend_2035() - SAVINGS_2035 - 23000), ""]
    assert "nicht gedeckt</text>" in compensation  # the gap is a bar of its own


def test_the_scenario_page_is_accessible(client, scenario):
    assert_accessible_structure(page(client, "/bilanz/szenario"))


def test_scenario_csv_per_year(client, scenario):
    rows = read_csv(client.get("/bilanz/szenario.csv"))
    header = rows[0]
    assert header[:7] == ["Jahr", "Zielpfad (t CO2e)", "Trend (t CO2e)", "Klimaneutralitäts-Szenario (t CO2e)",
                          "Einsparung der Maßnahmen (t CO2e)", "Strom-Faktor (t CO2e/MWh)",
                          "Einwohnerinnen und Einwohner"]
    assert "Trend Verkehr (t CO2e)" in header and "Szenario Verkehr (t CO2e)" in header
    assert [row[0] for row in rows[1:]] == [str(year) for year in range(2021, 2036)]
    by_year = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert by_year["2021"]["Trend (t CO2e)"] == "69450"
    assert by_year["2028"]["Zielpfad (t CO2e)"] == "34725"
    assert by_year["2025"]["Einsparung der Maßnahmen (t CO2e)"] == "6000"
    assert float(by_year["2035"]["Trend (t CO2e)"].replace(",", ".")) == pytest.approx(trend_2035(), abs=1e-3)
    assert by_year["2035"]["Zielpfad (t CO2e)"] == "0"
    assert by_year["2035"]["Einwohnerinnen und Einwohner"] == "10000"


def test_the_scenario_page_runs_the_same_statements_for_more_measures(app, client, scenario, count_queries):
    client.get("/bilanz/szenario")
    with count_queries() as few:
        assert client.get("/bilanz/szenario").status_code == 200
    with app.app_context():
        sector = db.session.scalar(db.select(Measure)).sector_id
        for n in range(10):
            db.session.add(Measure(number=f"M-9.{n}", title=f"Noch eine {n}", sector_id=sector, start_year=2026,
                                   savings_t_co2e_per_year=10))
        db.session.commit()
    with count_queries() as many:
        html = page(client, "/bilanz/szenario")
    assert "Noch eine 9" in html
    assert many.n == few.n <= 8, many.statements



def test_savings_beyond_a_sectors_trend_are_capped_and_said_so(app, client, scenario):
    with app.app_context():
        sector = db.session.scalar(db.select(Measure).filter_by(number="M-4.1")).sector_id
        db.session.add(Measure(number="M-4.2", title="Autofreie Stadt", sector_id=sector, start_year=2022,
                               savings_t_co2e_per_year=50000))
        db.session.commit()
    html = page(client, "/bilanz/szenario")
    sectors = {row[0]: row[1:] for row in table_rows(section(html, "sektoren"))}
    assert sectors["Verkehr"][2] == "0"
    # transport would save 2,000 + 50,000 + its share of M-7.1, but only its trend is there
    requested = 52000 + 1000 * transport_trend_2035() / trend_2035()
    assert (f"Verkehr: {de(requested)} statt {de(transport_trend_2035())} t CO₂e"
            in html[html.index('id="sektoren"'):html.index('id="massnahmen"')])
