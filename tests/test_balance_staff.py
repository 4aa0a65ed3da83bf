"""The staff pages of the balance: balance years, the final-energy table and its import, emission
factors, carriers, the scenario settings with their preview, publishing and permissions."""
import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from analyse.bisko import read_factors_csv
from beteiligung.audit.models import AuditEntry
from beteiligung.balance import reference, services
from beteiligung.balance.models import Balance, BalanceEntry, CompensationOption, EmissionFactor, EnergyCarrier
from beteiligung.extensions import db
from beteiligung.ideas.models import Sector
from beteiligung.ideas.services import ensure_default_sectors
from beteiligung.measures.models import Measure, MeasureEnergySaving

from .conftest import csrf_token, login_as, post_form

DATA = Path(__file__).parent / "data" / "bisko"
BASE = "/verwaltung/bilanz"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def setup(app):
    """The reference carriers and factors (strom 0.505 from 2022, erdgas 0.247 from 2019 …) and the fields of action."""
    with app.app_context():
        reference.ensure_reference_data()
        ensure_default_sectors()
        db.session.commit()


@pytest.fixture
def staff(app, setup, users):
    return login_as(app.test_client(), users["staff"])


@pytest.fixture
def make_balance(app, setup):
    def make(year=2022, population=110000, entries=(), published=False, **options):
        with app.app_context():
            balance = Balance(year=year, population=population, **options)
            db.session.add(balance)
            db.session.flush()
            rows = [(number, dict(zip(("sector", "carrier", "mwh", "quality", "note"), row)))
                    for number, row in enumerate(entries, start=1)]
            checked, errors = services.check_entries(rows)
            assert errors == []
            services.replace_entries(balance, checked)
            if published:
                services.set_published(balance, True)
            db.session.commit()
            return balance.id

    return make


@pytest.fixture
def beispielhausen_factors(app, setup):
    """The factors of tests/data/bisko/faktoren.csv instead of the reference table (69,450 t CO2e for 2021)."""
    with app.app_context():
        db.session.query(EmissionFactor).delete()
        for factor in read_factors_csv(DATA / "faktoren.csv"):
            db.session.add(EmissionFactor(carrier=factor.carrier, valid_from=factor.valid_from or 1990,
                                          t_co2e_per_mwh=factor.t_co2e_per_mwh, source=factor.source))
        db.session.commit()


def read(app, model, **filters):
    with app.app_context():
        return db.session.scalars(db.select(model).filter_by(**filters)).all()


def balance_of(app, year):
    with app.app_context():
        balance = db.session.scalar(db.select(Balance).filter_by(year=year))
        if balance is not None:
            db.session.expunge(balance)
        return balance


def entries_of(app, year):
    with app.app_context():
        balance = db.session.scalar(db.select(Balance).filter_by(year=year))
        return sorted((e.sector, e.carrier, Decimal(e.mwh), e.quality, e.note) for e in balance.entries)


def page(response):
    return response.get_data(as_text=True)


def upload(client, year, data, filename="werte.csv", encoding="utf-8"):
    return post_form(client, f"{BASE}/{year}/import", {"file": (io.BytesIO(data), filename), "encoding": encoding},
                     content_type="multipart/form-data")


def confirm_import(client, year):
    """Confirm the pending upload with its real token (as if the button were there even when it is not)."""
    with client.session_transaction() as session:
        token = (session.get("balance_import") or {}).get("token", "")
    return post_form(client, f"{BASE}/{year}/import/bestaetigen", {"token": token})


def entry_form(rows):
    """Form data of the entries table: rows = [(sector, carrier, mwh, quality, note[, remove])]."""
    data = {}
    for index, row in enumerate(rows):
        for name, value in zip(("sector", "carrier", "mwh", "quality", "note"), row):
            data[f"rows-{index}-{name}"] = value
        if len(row) > 5 and row[5]:
            data[f"rows-{index}-remove"] = "y"
    data["save"] = "Werte speichern und neu berechnen"
    return data


BEISPIELHAUSEN = (DATA / "beispielhausen-2021.csv").read_bytes()


# --- permissions ------------------------------------------------------------------------------

STAFF_PAGES = ["/", "/2022", "/2022/import", "/faktoren", "/faktoren.csv", "/energietraeger", "/szenario",
               "/2022/werte.csv", "/vorlage.csv"]


@pytest.mark.parametrize("role, expected", [("citizen", 403), ("member", 403), ("staff", 200), ("admin", 200)])
def test_only_staff_and_admins_open_the_pages(app, users, make_balance, role, expected):
    make_balance()
    client = login_as(app.test_client(), users[role])
    for path in STAFF_PAGES:
        assert client.get(BASE + path).status_code == expected, path
    response = client.post(f"{BASE}/2022/veroeffentlichen", data={"csrf_token": csrf_token(client)})
    assert response.status_code in ((403,) if expected == 403 else (302,))


def test_anonymous_visitors_are_sent_to_the_login(client, make_balance):
    make_balance()
    for path in STAFF_PAGES:
        response = client.get(BASE + path)
        assert response.status_code == 302 and "/anmelden?next=" in response.headers["Location"], path


def test_the_side_navigation_links_the_balance_and_marks_it_current(staff):
    html = page(staff.get(f"{BASE}/faktoren"))
    assert f'href="{BASE}/" aria-current="page">Bilanz und Szenarien' in html
    assert "Bilanz und Szenarien" in page(staff.get("/verwaltung/massnahmen/"))


# --- balance years --------------------------------------------------------------------------

def test_a_balance_year_is_created_with_german_numbers_and_defaults(app, staff):
    form = page(staff.get(BASE + "/"))
    assert 'value="3,2"' in form and "Wärmepumpenstrom ist im Strom enthalten" in form
    response = post_form(staff, BASE + "/", {"year": "2023", "population": "110.500", "heat_pump_apf": "3,5",
                                             "heat_pump_power_in_electricity": "y", "note": "Quelle: Stadtwerke"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/2023")
    balance = balance_of(app, 2023)
    assert (balance.population, balance.heat_pump_apf, balance.heat_pump_power_in_electricity,
            balance.municipal_in_ghd) == (110500, Decimal("3.5"), True, False)
    assert balance.result_json is None and "noch keine Endenergie" in balance.error
    assert read(app, AuditEntry, action="balance.created")
    listing = page(staff.get(BASE + "/"))
    assert "Bilanz 2023" in listing and "110.500" in listing and "noch keine Endenergie" in listing


@pytest.mark.parametrize("data, message", [
    ({"year": "1989", "population": "1000", "heat_pump_apf": "3,2"}, "zwischen 1990 und 2100"),
    ({"year": "2101", "population": "1000", "heat_pump_apf": "3,2"}, "zwischen 1990 und 2100"),
    ({"year": "2023", "population": "0", "heat_pump_apf": "3,2"}, "größer als 0"),
    ({"year": "2023", "population": "12,5", "heat_pump_apf": "3,2"}, "ganze Zahl"),
    ({"year": "2023", "population": "viele", "heat_pump_apf": "3,2"}, "„viele“ ist keine Zahl"),
    ({"year": "2023", "population": "1000", "heat_pump_apf": "0"}, "nicht kleiner als 1"),
    ({"year": "2023", "population": "1000", "heat_pump_apf": ""}, "Jahresarbeitszahl"),
    ({"year": "2022", "population": "1000", "heat_pump_apf": "3,2"}, "Für 2022 gibt es schon eine Bilanz"),
])
def test_a_wrong_new_balance_year_is_refused_with_a_message(app, staff, make_balance, data, message):
    make_balance()
    response = post_form(staff, BASE + "/", data)
    assert response.status_code == 200 and message in page(response)
    assert len(read(app, Balance)) == 1


def test_the_entries_table_saves_all_rows_and_computes_the_balance(app, staff, make_balance):
    make_balance()
    response = post_form(staff, f"{BASE}/2022/werte", entry_form([
        ("private_haushalte", "strom", "1.000", "A", "Netzbetreiber"),
        ("private_haushalte", "erdgas", "2.000,5", "b", ""),
        ("", "", "", "", ""),  # an empty row is ignored
    ]))
    assert response.status_code == 302
    assert entries_of(app, 2022) == [("private_haushalte", "erdgas", Decimal("2000.5"), "B", ""),
                                     ("private_haushalte", "strom", Decimal("1000"), "A", "Netzbetreiber")]
    result = balance_of(app, 2022).result
    assert result["total_t_co2e"] == pytest.approx(1000 * 0.505 + 2000.5 * 0.247)
    html = page(staff.get(f"{BASE}/2022"))
    assert "999" in html and "BISKO Methodenpapier" in html  # 999,1 t and the factors' sources
    assert 'value="2.000,5"' in html
    assert read(app, AuditEntry, action="balance.entries")


def test_wrong_rows_name_their_row_and_nothing_is_saved(app, staff, make_balance):
    make_balance(entries=[("ghd", "erdgas", "500", "A", "")])
    response = post_form(staff, f"{BASE}/2022/werte", entry_form([
        ("private_haushalte", "strom", "1000", "A", ""),
        ("private_haushalte", "strom", "20", "", ""),  # the same sector and carrier again
        ("ghd", "kernfusion", "5", "", ""),
        ("industrie", "erdgas", "-5", "", ""),
        ("verkehr", "diesel", "zehn", "", ""),
    ]))
    html = page(response)
    assert response.status_code == 200
    assert "Bitte korrigieren Sie 4 Angaben. Es wurde nichts gespeichert." in html
    assert "Zeile 2, Energieträger: Private Haushalte / Strom (Bundesmix) steht schon in Zeile 1." in html
    assert "Zeile 3, Energieträger: Unbekannter Energieträger „kernfusion“" in html
    assert "Zeile 4, MWh: Die Endenergie darf nicht negativ sein." in html
    assert "Zeile 5, MWh: „zehn“ ist keine Zahl." in html
    assert 'aria-invalid="true"' in html and 'value="zehn"' in html  # the input stays for correcting
    assert entries_of(app, 2022) == [("ghd", "erdgas", Decimal("500"), "A", "")]


def test_a_row_is_removed_with_its_box_and_more_empty_rows_come_without_javascript(app, staff, make_balance):
    make_balance(entries=[("ghd", "erdgas", "500", "A", ""), ("ghd", "strom", "100", "A", "")])
    html = page(staff.get(f"{BASE}/2022"))
    assert html.count('name="rows-') == 7 * 6  # 2 filled + 5 empty rows, 6 inputs each
    more = post_form(staff, f"{BASE}/2022/werte", {**entry_form([("ghd", "erdgas", "500", "A", "")]),
                                                   "save": "", "more": "Weitere leere Zeilen"})
    assert more.status_code == 200 and page(more).count('name="rows-') == 11 * 6
    assert len(entries_of(app, 2022)) == 2  # nothing saved
    post_form(staff, f"{BASE}/2022/werte", entry_form([("ghd", "erdgas", "500", "A", ""),
                                                       ("ghd", "strom", "100", "A", "", True)]))
    assert entries_of(app, 2022) == [("ghd", "erdgas", Decimal("500"), "A", "")]


def test_changing_population_and_options_recomputes(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "1000", "A", ""), ("ghd", "umweltwaerme", "320", "B", "")])
    before = balance_of(app, 2022).result
    response = post_form(staff, f"{BASE}/2022/angaben", {"population": "55.000", "heat_pump_apf": "3,2",
                                                         "note": "neu"})  # heat-pump power no longer in strom
    assert response.status_code == 302
    after = balance_of(app, 2022)
    assert after.population == 55000 and not after.heat_pump_power_in_electricity
    assert after.result["total_t_co2e"] == pytest.approx(before["total_t_co2e"] + 100 * 0.505)
    assert after.result["per_capita_t_co2e"] == pytest.approx(after.result["total_t_co2e"] / 55000)
    entry = read(app, AuditEntry, action="balance.settings")[0]
    assert entry.old_values["population"] == 110000 and entry.new_values["population"] == 55000
    response = post_form(staff, f"{BASE}/2022/angaben", {"population": "-3", "heat_pump_apf": "3,2"})
    assert response.status_code == 200 and "größer als 0" in page(response)
    assert balance_of(app, 2022).population == 55000


def test_the_page_says_why_a_balance_cannot_be_computed(app, staff, make_balance):
    make_balance(entries=[("private_haushalte", "solarthermie", "800", "D", "")])
    html = page(staff.get(f"{BASE}/2022"))
    assert "Die Bilanz kann nicht berechnet werden." in html
    assert "„solarthermie“ gibt es keinen Emissionsfaktor für das Jahr 2022" in html


# --- publishing and deleting ----------------------------------------------------------------

def test_a_balance_without_a_result_cannot_be_published(app, staff, make_balance):
    make_balance(entries=[("private_haushalte", "solarthermie", "800", "D", "")])
    response = post_form(staff, f"{BASE}/2022/veroeffentlichen", follow_redirects=True)
    assert "ohne gültige Berechnung kann nicht veröffentlicht werden" in page(response)
    assert "solarthermie" in page(response)
    assert not balance_of(app, 2022).published


def test_publish_unpublish_and_a_published_balance_stays_computable(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "1000", "A", "")])
    post_form(staff, f"{BASE}/2022/veroeffentlichen")
    assert balance_of(app, 2022).published
    # A row without a factor would leave the published balance without a result: refused.
    response = post_form(staff, f"{BASE}/2022/werte", entry_form([("ghd", "strom", "1000", "A", ""),
                                                                  ("ghd", "solarthermie", "10", "", "")]))
    assert response.status_code == 200 and "ist veröffentlicht und ließe sich" in page(response)
    assert entries_of(app, 2022) == [("ghd", "strom", Decimal("1000"), "A", "")]
    assert balance_of(app, 2022).result_json is not None
    # Deleting is refused while published.
    response = post_form(staff, f"{BASE}/2022/loeschen", {"confirmed": "1"}, follow_redirects=True)
    assert "kann nicht gelöscht werden" in page(response) and balance_of(app, 2022) is not None
    post_form(staff, f"{BASE}/2022/zurueckziehen")
    assert not balance_of(app, 2022).published
    assert [e.action for e in read(app, AuditEntry, object_type="balance") if "publish" in e.action] == [
        "balance.publish", "balance.unpublish"]


def test_a_published_balance_keeps_its_result_when_options_or_factors_would_break_it(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "100", "A", ""), ("ghd", "umweltwaerme", "320", "B", ""),
                          ("ghd", "erdgas", "1000", "A", "")], published=True)
    stored = balance_of(app, 2022).result_json
    # JAZ 1: 320 MWh heat-pump power would be more than the 100 MWh of electricity.
    response = post_form(staff, f"{BASE}/2022/angaben", {"population": "110.000", "heat_pump_apf": "1",
                                                         "heat_pump_power_in_electricity": "y"})
    assert response.status_code == 200 and "ist veröffentlicht und ließe sich" in page(response)
    assert "mehr als der Strom des Sektors" in page(response)
    balance = balance_of(app, 2022)
    assert balance.heat_pump_apf == Decimal("3.2") and balance.result_json == stored
    # Without an erdgas factor the recomputation is refused and the stored figures stay.
    post_form(staff, f"{BASE}/faktoren/{_factor_id(app, 'erdgas', 2019)}/loeschen")
    response = post_form(staff, f"{BASE}/2022/neu-berechnen", follow_redirects=True)
    assert "ließe sich mit dieser Änderung nicht mehr berechnen" in page(response)
    assert balance_of(app, 2022).result_json == stored and balance_of(app, 2022).published


def test_deleting_a_balance_asks_for_confirmation_first(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "1000", "A", "")])
    confirmation = post_form(staff, f"{BASE}/2022/loeschen")
    assert confirmation.status_code == 200 and "Bilanz 2022 löschen?" in page(confirmation)
    assert balance_of(app, 2022) is not None
    response = post_form(staff, f"{BASE}/2022/loeschen", {"confirmed": "1"})
    assert response.status_code == 302 and balance_of(app, 2022) is None
    assert read(app, BalanceEntry) == []
    assert read(app, AuditEntry, action="balance.deleted")[0].old_values["entries"] == 1


# --- import ---------------------------------------------------------------------------------

def test_the_sample_file_imports_cleanly_and_replaces_the_entries(app, staff, make_balance):
    make_balance(entries=[("ghd", "kohle", "77", "A", "wird ersetzt")])
    response = upload(staff, 2022, BEISPIELHAUSEN, "beispielhausen-2021.csv", encoding="cp1252")
    assert response.status_code == 302 and response.headers["Location"].endswith("/2022/import/vorschau")
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "Die Datei ist in Ordnung." in preview
    assert "23 Werte sind neu" in preview and "1 bisheriger Wert entfällt." in preview
    assert "CSV, Trennzeichen: Semikolon, Kodierung: cp1252" in preview
    assert "Wärmepumpen laut Förderstatistik" in preview  # the umlauts read right
    assert "Solarthermie" in preview and "keinen Emissionsfaktor" in preview  # the dry run says what is missing
    assert entries_of(app, 2022)[0][1] == "kohle"  # nothing written yet
    with staff.session_transaction() as session:
        assert f'value="{session["balance_import"]["token"]}"' in preview  # the confirm button's form
    response = confirm_import(staff, 2022)
    assert response.status_code == 302
    entries = entries_of(app, 2022)
    assert len(entries) == 23
    assert ("kommunale_einrichtungen", "fernwaerme", Decimal("1500"), "A", "Energiebericht der Stadt") in entries
    assert ("industrie", "heizoel", Decimal("1000"), None, "Quelle unbekannt") in entries
    assert ("kommunale_einrichtungen", "erdgas", Decimal("3000"), "A", "Energiebericht der Stadt") in entries
    assert "solarthermie" in balance_of(app, 2022).error
    assert read(app, AuditEntry, action="balance.import")
    # A second click imports nothing.
    again = post_form(staff, f"{BASE}/2022/import/bestaetigen", {"token": "x" * 43}, follow_redirects=True)
    assert "bereits ausgeführt, verworfen oder ist abgelaufen" in page(again)


def test_the_imported_sample_gives_the_hand_calculated_balance_on_the_page(app, staff, beispielhausen_factors,
                                                                           make_balance):
    make_balance(year=2021, population=12500, municipal_in_ghd=True)
    upload(staff, 2021, BEISPIELHAUSEN, "beispielhausen-2021.csv", encoding="cp1252")
    preview = page(staff.get(f"{BASE}/2021/import/vorschau"))
    assert "ergäbe die Bilanz 69.450 t CO₂e" in preview
    confirm_import(staff, 2021)
    result = balance_of(app, 2021).result
    assert result["total_t_co2e"] == pytest.approx(69450, rel=1e-6)
    html = page(staff.get(f"{BASE}/2021"))
    assert "69.450 t CO₂e" in html and "5,56 t CO₂e" in html and "221.160 MWh" in html
    assert "0,62" in html  # data-quality index 136,815 / 221,160
    assert "Wärmepumpenstrom aus „Strom (Bundesmix)“ herausgerechnet" in html
    assert "kommunale Einrichtungen aus „Fernwärme“ herausgerechnet" in html
    assert "Beispiel-Faktoren 2021" in html
    listing = page(staff.get(BASE + "/"))
    assert "69.450" in listing and "221.160" in listing


def test_a_file_in_the_wrong_encoding_changes_nothing(app, staff, make_balance):
    make_balance(entries=[("ghd", "erdgas", "500", "A", "")])
    upload(staff, 2022, BEISPIELHAUSEN, "beispielhausen-2021.csv", encoding="utf-8")
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "nicht in der gewählten Kodierung utf-8 gespeichert" in preview
    assert "in Zeile 2, 6, 7, 9, 10, 12, 13, 25" in preview and "Wählen Sie die Kodierung cp1252" in preview
    response = confirm_import(staff, 2022)
    assert "Es wurde nichts geändert" in page(staff.get(response.headers["Location"]))
    assert entries_of(app, 2022) == [("ghd", "erdgas", Decimal("500"), "A", "")]


@pytest.mark.parametrize("data, filename, message", [
    (b"PK\x03\x04 kaputt", "werte.xlsx", "keine gültige Excel-Datei"),
    (b"", "werte.csv", "Die Datei ist leer."),
    (b"%PDF-1.4", "werte.pdf", "Bitte laden Sie eine CSV-Datei (.csv) oder eine Excel-Datei (.xlsx) hoch."),
])
def test_a_broken_or_empty_file_is_refused_at_upload(app, staff, make_balance, data, filename, message):
    make_balance(entries=[("ghd", "erdgas", "500", "A", "")])
    response = upload(staff, 2022, data, filename)
    assert response.status_code == 200 and message in page(response)
    assert staff.get(f"{BASE}/2022/import/vorschau").status_code == 302  # nothing staged
    assert entries_of(app, 2022) == [("ghd", "erdgas", Decimal("500"), "A", "")]


def test_every_wrong_row_of_a_file_is_reported_with_its_row_and_nothing_changes(app, staff, make_balance):
    make_balance(entries=[("ghd", "erdgas", "500", "A", "")])
    data = ("sektor;energieträger;mwh;datengüte\n"
            "Private Haushalte;Strom (Bundesmix);1.000;A\n"
            "private_haushalte;strom;200;B\n"
            "ghd;kernfusion;5;\n"
            "industrie;erdgas;-5;\n"
            "verkehr;diesel;zehn;\n"
            "verkehr;benzin;10;E\n").encode("utf-8")
    upload(staff, 2022, data)
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "5 Fehler – es wird nichts importiert" in preview
    for row, text in [(3, "steht schon in Zeile 2"), (4, "Unbekannter Energieträger „kernfusion“"),
                      (5, "Die Endenergie darf nicht negativ sein."), (6, "„zehn“ ist keine Zahl."),
                      (7, "Unbekannte Datengüte „E“")]:
        assert f'<th scope="row" class="num">{row}</th>' in preview and text in preview, row
    errors = staff.get(f"{BASE}/2022/import/fehler.csv")
    assert errors.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(errors.data.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["Zeile", "Spalte", "Meldung"] and [line[:2] for line in lines[1:]] == [
        ["3", "Energieträger"], ["4", "Energieträger"], ["5", "MWh"], ["6", "MWh"], ["7", "Datengüte"]]
    confirm_import(staff, 2022)
    assert entries_of(app, 2022) == [("ghd", "erdgas", Decimal("500"), "A", "")]


def test_an_excel_file_is_imported(app, staff, make_balance):
    from openpyxl import Workbook

    make_balance()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Bilanz"
    sheet.append(["Sektor", "Energieträger", "Endenergie MWh", "Datengüte", "Quelle"])
    sheet.append(["Private Haushalte", "Erdgas", 40000, "A", "Netzbetreiber"])
    sheet.append(["verkehr", "diesel", 30000.5, None, None])
    sheet.append(["ghd", "strom", "1.250,5", "b", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(staff, 2022, buffer.getvalue(), "bilanz.xlsx")
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "Excel (XLSX), Tabellenblatt „Bilanz“" in preview and "3 Werte sind neu" in preview
    confirm_import(staff, 2022)
    assert entries_of(app, 2022) == [("ghd", "strom", Decimal("1250.5"), "B", ""),
                                     ("private_haushalte", "erdgas", Decimal("40000"), "A", "Netzbetreiber"),
                                     ("verkehr", "diesel", Decimal("30000.5"), None, "")]
    assert balance_of(app, 2022).result["total_t_co2e"] == pytest.approx(
        1250.5 * 0.505 + 40000 * 0.247 + 30000.5 * 0.331)


def test_the_preview_of_a_file_with_errors_also_shows_its_good_rows(staff, make_balance):
    make_balance()
    upload(staff, 2022, "sector;carrier;mwh\nghd;strom;100\nghd;erdgas;x\n".encode("utf-8"))
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "1 Fehler – es wird nichts importiert" in preview
    assert "Die fehlerfreien Zeilen der Datei" in preview and "2 (1 davon fehlerfrei)" in preview
    assert "ersetzen</button>" not in preview


def test_missing_columns_are_named(staff, make_balance):
    make_balance()
    upload(staff, 2022, b"sektor;menge\nghd;5\n")
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "Es fehlt die Spalte „Energieträger“" in preview and "Es fehlt die Spalte „MWh“" in preview


def test_the_downloads_import_again_and_the_template_rows_without_values_are_skipped(app, staff, make_balance):
    make_balance(entries=[("ghd", "erdgas", "1250.5", "A", "=Formel"), ("verkehr", "diesel", "30000", None, "")])
    download = staff.get(f"{BASE}/2022/werte.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    text = download.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "sector;carrier;mwh;quality;note"
    assert "ghd;erdgas;1250,5;A;'=Formel" in text
    template = staff.get(f"{BASE}/vorlage.csv").data.decode("utf-8-sig")
    assert "private_haushalte;erdgas;;;;Private Haushalte – Erdgas" in template
    assert "verkehr;diesel;;;;Verkehr – Diesel" in template and "verkehr;erdgas;" not in template
    # A filled-in template: two rows with values, the others skipped.
    filled = template.replace("private_haushalte;erdgas;;", "private_haushalte;erdgas;40.000;").replace(
        "verkehr;benzin;;", "verkehr;benzin;25.000;")
    upload(staff, 2022, filled.encode("utf-8"), "vorlage.csv")
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "Die Datei ist in Ordnung." in preview and "Übersprungen (ohne Werte)" in preview
    assert "bezeichnung" in preview  # the column that is not read is named
    confirm_import(staff, 2022)
    assert entries_of(app, 2022) == [("private_haushalte", "erdgas", Decimal("40000"), None, ""),
                                     ("verkehr", "benzin", Decimal("25000"), None, "")]
    # The download of before imports back to the same values (the ' before a formula is taken off).
    upload(staff, 2022, download.data, "bilanz-2022.csv")
    confirm_import(staff, 2022)
    assert entries_of(app, 2022) == [("ghd", "erdgas", Decimal("1250.5"), "A", "=Formel"),
                                     ("verkehr", "diesel", Decimal("30000"), None, "")]


def test_an_import_into_a_published_balance_that_would_break_it_is_refused(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "1000", "A", "")], published=True)
    upload(staff, 2022, b"sector;carrier;mwh\nghd;solarthermie;10\n")
    preview = page(staff.get(f"{BASE}/2022/import/vorschau"))
    assert "deshalb können diese Werte nicht übernommen werden" in preview
    confirm_import(staff, 2022)
    assert entries_of(app, 2022) == [("ghd", "strom", Decimal("1000"), "A", "")]


# --- emission factors -----------------------------------------------------------------------

def _factor_id(app, carrier, year):
    with app.app_context():
        return db.session.scalar(db.select(EmissionFactor.id).filter_by(carrier=carrier, valid_from=year))


def test_editing_a_factor_does_not_change_a_stored_balance_until_recomputed(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "1000", "A", ""), ("ghd", "erdgas", "1000", "A", "")])
    stored = balance_of(app, 2022).result_json
    factor_id = _factor_id(app, "strom", 2022)
    form = page(staff.get(f"{BASE}/faktoren/{factor_id}"))
    assert 'value="0,505"' in form and "Gespeicherte Bilanzen ändern sich durch das Bearbeiten nicht" in form
    response = post_form(staff, f"{BASE}/faktoren/{factor_id}", {
        "carrier": "strom", "valid_from": "2022", "t_co2e_per_mwh": "0,45", "source": "UBA 2024", "note": ""})
    assert response.status_code == 302
    assert balance_of(app, 2022).result_json == stored  # unchanged
    factors = page(staff.get(response.headers["Location"]))
    assert "Bilanzen mit anderen Faktoren" in factors and "Bilanz 2022 neu berechnen" in factors
    html = page(staff.get(f"{BASE}/2022"))
    assert "Emissionsfaktoren haben sich geändert" in html
    assert "0,505" in html and "0,45" in html
    entry = read(app, AuditEntry, action="emission_factor.updated")[0]
    assert entry.old_values == {"t_co2e_per_mwh": "0.505", "source": "BISKO Methodenpapier (Difu, Juli 2024), "
                                                                     "Bundesstrommix 2022",
                                "note": "Wert je Bilanzjahr verschieden: andere Jahre vom Anwender zu pflegen"}
    assert entry.new_values == {"t_co2e_per_mwh": "0.45", "source": "UBA 2024", "note": ""}
    response = post_form(staff, f"{BASE}/2022/neu-berechnen", {"next": f"{BASE}/faktoren"})
    assert response.headers["Location"].endswith(f"{BASE}/faktoren")
    assert balance_of(app, 2022).result["total_t_co2e"] == pytest.approx(450 + 247)
    assert "Emissionsfaktoren haben sich geändert" not in page(staff.get(f"{BASE}/2022"))


def test_a_missing_factor_is_added_on_the_page_and_then_the_balance_computes(app, staff, make_balance):
    make_balance(entries=[("private_haushalte", "solarthermie", "800", "D", "")])
    factors = page(staff.get(f"{BASE}/faktoren"))
    assert "Noch kein Faktor: Bilanzen mit diesem Energieträger können nicht berechnet werden." in factors
    response = post_form(staff, f"{BASE}/faktoren", {"carrier": "solarthermie", "valid_from": "2020",
                                                     "t_co2e_per_mwh": "0,025", "source": "Stadtwerke", "note": ""})
    assert response.status_code == 302
    assert read(app, AuditEntry, action="emission_factor.created")[0].new_values["t_co2e_per_mwh"] == "0.025"
    post_form(staff, f"{BASE}/2022/neu-berechnen")
    assert balance_of(app, 2022).result["total_t_co2e"] == pytest.approx(20)


@pytest.mark.parametrize("data, message", [
    ({"carrier": "strom", "valid_from": "2022", "t_co2e_per_mwh": "0,4", "source": "x"},
     "Für „Strom (Bundesmix)“ gibt es schon einen Faktor ab 2022"),
    ({"carrier": "strom", "valid_from": "2023", "t_co2e_per_mwh": "505", "source": "x"}, "505 g/kWh"),
    ({"carrier": "strom", "valid_from": "2023", "t_co2e_per_mwh": "-0,1", "source": "x"}, "nicht kleiner als 0"),
    ({"carrier": "strom", "valid_from": "2023", "t_co2e_per_mwh": "0,12345", "source": "x"}, "Höchstens 4"),
    ({"carrier": "strom", "valid_from": "2023", "t_co2e_per_mwh": "null", "source": "x"}, "„null“ ist keine Zahl"),
    ({"carrier": "strom", "valid_from": "2023", "t_co2e_per_mwh": "0,4", "source": ""}, "Bitte geben Sie die Quelle"),
    ({"carrier": "", "valid_from": "2023", "t_co2e_per_mwh": "0,4", "source": "x"}, "Bitte wählen Sie den Energie"),
    ({"carrier": "kernfusion", "valid_from": "2023", "t_co2e_per_mwh": "0,4", "source": "x"}, "Unbekannter Energie"),
    ({"carrier": "strom", "valid_from": "zweitausend", "t_co2e_per_mwh": "0,4", "source": "x"}, "Jahreszahl"),
])
def test_a_wrong_factor_is_refused(app, staff, data, message):
    before = len(read(app, EmissionFactor))
    response = post_form(staff, f"{BASE}/faktoren", data)
    assert response.status_code == 200 and message in page(response)
    assert len(read(app, EmissionFactor)) == before


def test_factor_changes_recompute_the_measure_sheets_and_deleting_is_audited(app, staff, make_balance):
    with app.app_context():
        sector = db.session.scalar(db.select(Sector).filter_by(code="wohngebaeude"))
        measure = Measure(number="M-1.1", title="Heizungstausch", sector_id=sector.id, savings_method="carriers")
        measure.energy_savings = [MeasureEnergySaving(carrier="erdgas", mwh_per_year=Decimal("1000"))]
        db.session.add(measure)
        db.session.commit()
    factor_id = _factor_id(app, "erdgas", 2019)
    response = post_form(staff, f"{BASE}/faktoren/{factor_id}", {
        "carrier": "erdgas", "valid_from": "2019", "t_co2e_per_mwh": "0,2", "source": "neu", "note": ""},
        follow_redirects=True)
    assert "1 Maßnahmenblatt hat seine Einsparung mit den neuen Faktoren neu berechnet." in page(response)
    assert read(app, Measure)[0].savings_t_co2e_per_year == Decimal("200")
    post_form(staff, f"{BASE}/faktoren/{factor_id}/loeschen")
    assert _factor_id(app, "erdgas", 2019) is None
    assert read(app, AuditEntry, action="emission_factor.deleted")[0].old_values["t_co2e_per_mwh"] == "0.2"
    assert read(app, Measure)[0].savings_t_co2e_per_year is None  # no erdgas factor any more


def test_the_factor_table_downloads_in_the_format_of_the_cli(app, staff, tmp_path):
    response = staff.get(f"{BASE}/faktoren.csv")
    path = tmp_path / "faktoren.csv"
    path.write_bytes(response.data)
    assert response.data.decode("utf-8-sig").splitlines()[0] == "carrier,t_co2e_per_mwh,valid_from,source"
    factors = read_factors_csv(path)
    assert ("strom", Decimal("0.505"), 2022) in {(f.carrier, f.t_co2e_per_mwh, f.valid_from) for f in factors}
    assert len(factors) == len(reference.FACTORS)


# --- carriers -------------------------------------------------------------------------------

def test_carriers_are_added_edited_and_deleted_only_when_unused(app, staff, make_balance):
    listing = page(staff.get(f"{BASE}/energietraeger"))
    assert "Strom (Bundesmix)" in listing and "BISKO (fest)" in listing
    response = post_form(staff, f"{BASE}/energietraeger", {"code": "braunkohle", "name": "Braunkohle",
                                                          "use": "stationaer", "note": ""})
    assert response.status_code == 302
    carrier = read(app, EnergyCarrier, code="braunkohle")[0]
    assert not carrier.builtin
    for data, message in [({"code": "Braun Kohle", "name": "X"}, "Nur Kleinbuchstaben"),
                          ({"code": "braunkohle", "name": "Andere"}, "schon vergeben"),
                          ({"code": "bk", "name": "braunkohle"}, "trägt schon ein anderer"),
                          ({"code": "", "name": "X"}, "Bitte geben Sie das Kürzel an")]:
        response = post_form(staff, f"{BASE}/energietraeger", {"use": "stationaer", **data})
        assert response.status_code == 200 and message in page(response), data
    response = post_form(staff, f"{BASE}/energietraeger/{carrier.id}", {"name": "Braunkohle (Briketts)",
                                                                       "use": "stationaer", "note": "Hausbrand"})
    assert response.status_code == 302
    assert read(app, EnergyCarrier, code="braunkohle")[0].name == "Braunkohle (Briketts)"
    assert read(app, AuditEntry, action="energy_carrier.updated")[0].new_values == {
        "name": "Braunkohle (Briketts)", "note": "Hausbrand"}
    # A carrier in use is kept; a builtin one always.
    make_balance(entries=[("private_haushalte", "braunkohle", "10", "", "")])
    response = post_form(staff, f"{BASE}/energietraeger/{carrier.id}/loeschen", follow_redirects=True)
    assert "wird noch verwendet (1 Bilanzwerte" in page(response)
    strom = read(app, EnergyCarrier, code="strom")[0]
    response = post_form(staff, f"{BASE}/energietraeger/{strom.id}/loeschen", follow_redirects=True)
    assert "kann nicht gelöscht werden" in page(response) and read(app, EnergyCarrier, code="strom")
    post_form(staff, f"{BASE}/2022/werte", entry_form([("ghd", "strom", "5", "", "")]))
    post_form(staff, f"{BASE}/energietraeger/{carrier.id}/loeschen")
    assert read(app, EnergyCarrier, code="braunkohle") == []
    assert read(app, AuditEntry, action="energy_carrier.deleted")


# --- scenario -------------------------------------------------------------------------------

def scenario_form(**overrides):
    data = {"base_year": "", "target_year": "2035", "note": "", "change_private_haushalte": "-1,5",
            "change_ghd": "", "change_industrie": "", "change_kommunale_einrichtungen": "",
            "change_verkehr": "-0,8", "electricity-0-year": "2030", "electricity-0-value": "0,25",
            "electricity-1-year": "", "electricity-1-value": "", "population-0-year": "2035",
            "population-0-value": "115.000"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_scenario_settings_are_saved_and_previewed(app, staff, make_balance):
    assert "Speichern Sie zuerst die Annahmen" in page(staff.get(f"{BASE}/szenario"))
    make_balance(entries=[("ghd", "strom", "10000", "A", ""), ("verkehr", "diesel", "20000", "D", "")],
                 published=True)
    response = post_form(staff, f"{BASE}/szenario", scenario_form(published="y", note="Annahmen laut Gutachten"))
    assert response.status_code == 302
    with app.app_context():
        settings = services.scenario_settings()
        assert (settings.base_year, settings.target_year, settings.published) == (None, 2035, True)
        assert settings.annual_change == {"private_haushalte": -1.5, "ghd": 0, "industrie": 0,
                                          "kommunale_einrichtungen": 0, "verkehr": -0.8}
        assert services.path("electricity") == {2030: Decimal("0.25")}
        assert services.path("population") == {2035: Decimal("115000")}
    assert read(app, AuditEntry, action="scenario.settings")
    html = page(staff.get(f"{BASE}/szenario"))
    base = 10000 * 0.505 + 20000 * 0.331
    assert "Basisjahr 2022" in html and f"{round(base):,}".replace(",", ".") + " t CO₂e" in html
    trend_2035 = 10000 * 0.25 + 20000 * 0.992 ** 13 * 0.331
    assert f"{round(trend_2035):,}".replace(",", ".") in html
    assert 'value="-1,5"' in html and 'value="115.000"' in html and 'value="0,25"' in html
    assert "Trend" in html and "Zielpfad" in html


@pytest.mark.parametrize("overrides, message", [
    ({"target_year": "2022"}, "Das Zieljahr muss nach dem Basisjahr 2022 liegen."),
    ({"target_year": "2101"}, "zwischen 1990 und 2100"),
    ({"base_year": "2019"}, "Für dieses Jahr gibt es keine Bilanz."),
    ({"change_ghd": "150"}, "nicht größer als 100"),
    ({"change_ghd": "viel"}, "„viel“ ist keine Zahl"),
    ({"electricity-1-year": "2030", "electricity-1-value": "0,2"}, "Das Jahr 2030 steht schon in einer anderen Zeile"),
    ({"electricity-1-year": "2040", "electricity-1-value": "505"}, "zwischen 0 und 10"),
    ({"population-0-value": "-5"}, "ganze Zahl größer als 0"),
    ({"population-0-year": "", "population-0-value": "1000"}, "Pfad der Einwohnerzahl, Zeile 1"),
])
def test_wrong_scenario_settings_are_refused(app, staff, make_balance, overrides, message):
    make_balance(entries=[("ghd", "strom", "10000", "A", "")], published=True)
    response = post_form(staff, f"{BASE}/szenario", scenario_form(**overrides))
    assert response.status_code == 200 and message in page(response)
    with app.app_context():
        assert services.scenario_settings() is None and services.path("electricity") == {}


def test_path_rows_are_removed_with_their_box(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "10000", "A", "")], published=True)
    post_form(staff, f"{BASE}/szenario", scenario_form())
    post_form(staff, f"{BASE}/szenario", scenario_form(**{"electricity-0-remove": "y"}))
    with app.app_context():
        assert services.path("electricity") == {}
        assert services.path("population") == {2035: Decimal("115000")}


def test_the_preview_lists_left_out_measures_and_compensation(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "10000", "A", "")], published=True)
    with app.app_context():
        sector = db.session.scalar(db.select(Sector).filter_by(code="unternehmen"))
        db.session.add_all([
            Measure(number="M-2.1", title="Effizienznetzwerk", sector_id=sector.id, start_year=2024,
                    ramp_up_years=2, savings_t_co2e_per_year=Decimal("1000")),
            Measure(number="M-2.2", title="Ohne Zahl", sector_id=sector.id, start_year=2024)])
        db.session.commit()
    post_form(staff, f"{BASE}/szenario", scenario_form(target_year="2030", **{"electricity-0-year": None,
                                                                              "electricity-0-value": None}))
    response = post_form(staff, f"{BASE}/szenario/kompensation", {
        "name": "Moorvernässung", "description": "Saaletal", "capacity_t_per_year": "1.000",
        "cost_eur_per_t": "80"})
    assert response.status_code == 302
    html = page(staff.get(f"{BASE}/szenario"))
    assert "M-2.2 Ohne Zahl – keine abgeschätzte Einsparung" in html
    assert "1 Maßnahme" in html and "Moorvernässung" in html
    residual = 10000 * 0.505 - 1000
    assert f"{round(residual):,}".replace(",", ".") + " t CO₂e" in html
    assert "80.000 €" in html  # 1,000 t x 80 EUR
    assert "Die Vorschau geht von" not in html  # the base balance is published


def test_compensation_options_are_edited_and_deleted(app, staff):
    post_form(staff, f"{BASE}/szenario/kompensation", {"name": "Aufforstung", "capacity_t_per_year": "500",
                                                      "cost_eur_per_t": "30,5"})
    option = read(app, CompensationOption)[0]
    assert option.cost_eur_per_t == Decimal("30.5")
    response = post_form(staff, f"{BASE}/szenario/kompensation", {"name": "aufforstung", "capacity_t_per_year": "1",
                                                                 "cost_eur_per_t": "1"})
    assert "gibt es schon" in page(response)
    response = post_form(staff, f"{BASE}/szenario/kompensation", {"name": "Neu", "capacity_t_per_year": "-1",
                                                                 "cost_eur_per_t": "x"})
    assert "nicht kleiner als 0" in page(response) and "„x“ ist keine Zahl" in page(response)
    response = post_form(staff, f"{BASE}/szenario/kompensation/{option.id}", {
        "name": "Aufforstung Stadtwald", "capacity_t_per_year": "800", "cost_eur_per_t": "30,5"})
    assert response.status_code == 302
    assert read(app, CompensationOption)[0].name == "Aufforstung Stadtwald"
    assert read(app, AuditEntry, action="compensation_option.updated")[0].new_values == {
        "name": "Aufforstung Stadtwald", "capacity_t_per_year": "800"}
    post_form(staff, f"{BASE}/szenario/kompensation/{option.id}/loeschen")
    assert read(app, CompensationOption) == []


def test_the_bisko_sector_of_each_field_of_action_is_set(app, staff):
    sectors = {sector.code: sector for sector in read(app, Sector)}
    html = page(staff.get(f"{BASE}/szenario"))
    assert "auf alle Sektoren verteilt" in html
    response = post_form(staff, f"{BASE}/szenario/handlungsfelder", {
        f"bisko-{sectors['energie'].id}": "industrie", f"bisko-{sectors['mobilitaet'].id}": ""})
    assert response.status_code == 302
    now = {sector.code: sector.bisko_sector for sector in read(app, Sector)}
    assert now["energie"] == "industrie" and now["mobilitaet"] is None and now["wohngebaeude"] == "private_haushalte"
    entry = read(app, AuditEntry, action="sector.bisko_sector", object_id=str(sectors["mobilitaet"].id))[0]
    assert entry.old_values == {"bisko_sector": "verkehr"} and entry.new_values == {"bisko_sector": None}
    response = post_form(staff, f"{BASE}/szenario/handlungsfelder", {f"bisko-{sectors['energie'].id}": "mond"})
    assert response.status_code == 200 and "Unbekannter BISKO-Sektor" in page(response)
    assert {sector.code: sector.bisko_sector for sector in read(app, Sector)} == now


# --- escaping -------------------------------------------------------------------------------

def test_html_in_text_fields_comes_back_escaped(app, staff, make_balance):
    make_balance(entries=[("ghd", "strom", "10", "A", SCRIPT)])
    post_form(staff, f"{BASE}/2022/angaben", {"population": "1000", "heat_pump_apf": "3,2",
                                              "heat_pump_power_in_electricity": "y", "note": SCRIPT})
    post_form(staff, f"{BASE}/energietraeger", {"code": "x1", "name": SCRIPT, "use": "stationaer", "note": SCRIPT})
    post_form(staff, f"{BASE}/faktoren", {"carrier": "x1", "valid_from": "2020", "t_co2e_per_mwh": "0,1",
                                          "source": SCRIPT, "note": SCRIPT})
    post_form(staff, f"{BASE}/szenario/kompensation", {"name": SCRIPT, "description": SCRIPT,
                                                      "capacity_t_per_year": "1", "cost_eur_per_t": "1"})
    post_form(staff, f"{BASE}/szenario", scenario_form(note=SCRIPT))
    for path in ["/2022", "/energietraeger", "/faktoren", "/szenario", "/2022/import"]:
        html = page(staff.get(BASE + path))
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
