"""Importing ideas from CSV and XLSX: parsing, validation with row numbers, all-or-nothing,
the command line and the staff pages."""
import io
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from beteiligung.audit.models import AuditEntry
from beteiligung.extensions import db
from beteiligung.ideas import importing
from beteiligung.ideas.models import Idea

from .conftest import login_as, post_form

GOOD_CSV = (
    "Titel,Text,Handlungsfeld,Stadtteil,Quelle,Veranstaltung,Moderation,Klebepunkte,Datum\n"
    "Mehr Fahrradbügel am Holzmarkt,\"Vor den Geschäften fehlen Bügel, besonders für Lastenräder.\","
    "Mobilität,Jena-Zentrum,Themen-Werkstatt,Werkstatt Mobilität 12.03.,Anne K.,7,12.03.2025\n"
    "Solardächer auf Schulen,Alle Schuldächer in Lobeda mit Photovoltaik belegen.,energie,lobeda-ost,"
    "workshop,Werkstatt Mobilität 12.03.,Anne K.,3,2025-03-12 18:30\n"
    ",,,,,,,,\n"
    "Repair-Café in Winzerla,Einmal im Monat reparieren statt wegwerfen.,weiß ich nicht,Winzerla,,,,,\n"
).encode("utf-8")


def ideas_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Idea.id)))


def parse(app, data, filename="ideen.csv", **kwargs):
    """Parse inside a request context; returns (ok, row numbers with errors, errors, row_count)."""
    with app.test_request_context():
        result = importing.parse_file(data, filename, **kwargs)
        return result


def error_rows(result):
    return sorted({error.row for error in result.errors if error.row is not None})


def xlsx_bytes(rows, title="Ideen", extra_sheets=()):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name, sheet_rows in extra_sheets:
        other = workbook.create_sheet(name)
        for row in sheet_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def staff(users):
    return users["staff"]


# --- parsing and committing ----------------------------------------------------------------------

def test_good_csv_imports_every_row_with_provenance_and_dot_votes(app, idea_setup, staff):
    from beteiligung.auth.models import User

    with app.test_request_context():
        result = importing.parse_file(b"\xef\xbb\xbf" + GOOD_CSV, "werkstatt.csv", default_source="event")
        assert result.errors == [] and result.ok
        assert result.delimiter == "," and result.row_count == 3
        assert [row.row for row in result.preview] == [2, 3, 5]  # the empty row 4 is skipped, numbers stay
        ids = importing.commit(result, db.session.get(User, staff.id))
    assert len(ids) == 3 and ideas_count(app) == 3
    with app.app_context():
        first, second, third = [db.session.get(Idea, idea_id) for idea_id in ids]
        assert first.title == "Mehr Fahrradbügel am Holzmarkt"
        assert first.text == "Vor den Geschäften fehlen Bügel, besonders für Lastenräder."
        assert (first.sector.code, first.district.code, first.source) == ("mobilitaet", "jena-zentrum", "workshop")
        assert (first.event_name, first.facilitator, first.dot_votes) == ("Werkstatt Mobilität 12.03.", "Anne K.", 7)
        assert first.author_id is None and first.entered_by_id == staff.id and first.status == "submitted"
        # a date alone means noon in Jena; stored as UTC
        assert first.created_at == datetime(2025, 3, 12, 11, 0, tzinfo=timezone.utc)
        assert second.created_at == datetime(2025, 3, 12, 17, 30, tzinfo=timezone.utc)
        assert (second.sector.code, second.district.code, second.dot_votes) == ("energie", "lobeda-ost", 3)
        assert third.sector is None and third.source == "event" and third.dot_votes == 0  # form default
        assert third.event_name is None and third.created_at.year >= 2025
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["ideas.imported", "idea.entered"]))).all()
        assert [entry.action for entry in entries] == ["ideas.imported"]  # one entry for the file
        assert entries[0].actor_id == staff.id
        assert entries[0].new_values["count"] == 3 and entries[0].new_values["file"] == "werkstatt.csv"


def test_broken_csv_imports_nothing_and_names_every_broken_row(app, idea_setup, staff):
    rows = [
        b"Titel;Text;Stadtteil;Klebepunkte;Datum",
        "Gute Idee;Ein guter Text;Winzerla;2;".encode(),  # row 2: fine
        b"Kaputte Kodierung \xff\xfe;Text;Winzerla;;",  # row 3: not UTF-8
        ";Ohne Titel;Winzerla;;".encode(),  # row 4: no title
        "Falscher Ort;Text;Atlantis;;".encode(),  # row 5: unknown district
        ("Zu lang;" + "x" * 5001 + ";Winzerla;;").encode(),  # row 6: text of 5001 characters
        b"",  # row 7: empty, skipped
        "Schlechte Punkte;Text;Winzerla;-2;31.02.2025".encode(),  # row 8: dots and date
        "Noch eine gute;Text;Lobeda-Ost;0;01.03.2025".encode(),  # row 9: fine
    ]
    data = b"\n".join(rows) + b"\n"
    with app.test_request_context():
        result = importing.parse_file(data, "kaputt.csv")
        assert result.delimiter == ";"
        assert not result.ok and result.row_count == 7
        problems = {(error.row, error.field) for error in result.errors}
        assert problems == {(3, "title"), (4, "title"), (5, "district"), (6, "text"), (8, "dot_votes"),
                            (8, "created_at")}
        messages = {error.row: error.message for error in result.errors}
        assert "cp1252" in messages[3]
        assert "Atlantis" in messages[5]
        assert "5001" in messages[6] and "5000" in messages[6]
        assert "Zeile 4, Titel: Der Titel fehlt." in [error.format() for error in result.errors]
        with pytest.raises(importing.ImportFailed):
            importing.commit(result, None)
    assert ideas_count(app) == 0


def test_a_rule_broken_at_commit_time_rolls_back_every_row(app, idea_setup, monkeypatch):
    from beteiligung.ideas import services

    real = services.create_idea
    calls = {"n": 0}

    def failing_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise services.IdeaError("Stadtteil wurde inzwischen gelöscht.", "district")
        return real(*args, **kwargs)

    with app.test_request_context():
        result = importing.parse_file(GOOD_CSV, "ideen.csv")
        assert result.ok
        monkeypatch.setattr(services, "create_idea", failing_second)
        with pytest.raises(importing.ImportFailed) as failed:
            importing.commit(result, None)
        assert failed.value.errors[0].row == 3
    assert ideas_count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEntry.id))
                                 .where(AuditEntry.action == "ideas.imported")) == 0


def test_semicolon_csv_from_excel_in_cp1252(app, idea_setup):
    data = ("Überschrift;Beschreibung;Ortsteil;Punkte;Herkunft\r\n"
            "Grünflächen gießen;Bäume in der Straße brauchen Wasser – Gießpaten finden;Wenigenjena;4;Brief\r\n"
            "Tempo 30 vor Schulen;Mehr Sicherheit für Kinder;Jena-Zentrum;0;E-Mail\r\n").encode("cp1252")
    with app.test_request_context():
        result = importing.parse_file(data, "Excel-Liste.csv", encoding="cp1252")
        assert result.ok, [error.format() for error in result.errors]
        assert (result.delimiter, result.encoding) == (";", "cp1252")
        first = result.rows[0]
        assert first.title == "Grünflächen gießen"
        assert first.text == "Bäume in der Straße brauchen Wasser – Gießpaten finden"
        assert (first.district.code, first.dot_votes, first.source.value) == ("wenigenjena", 4, "letter")
        ids = importing.commit(result, None)
        assert db.session.get(Idea, ids[1]).source == "letter"
        # the same file read as UTF-8: the header with its Ü cannot be read, and says why
        wrong = importing.parse_file(data, "Excel-Liste.csv", encoding="utf-8")
        assert not wrong.ok and error_rows(wrong) == [1]
        assert any("cp1252" in error.message for error in wrong.errors)
        # with a plain header every row with an umlaut names the encoding
        plain = data.replace("Überschrift".encode("cp1252"), b"Titel")
        wrong = importing.parse_file(plain, "Excel-Liste.csv", encoding="utf-8")
        assert error_rows(wrong) == [2, 3]
        assert all("cp1252" in error.message for error in wrong.errors)
    assert ideas_count(app) == 2


def test_tab_separated_and_utf8_bom_and_quoted_line_breaks(app, idea_setup):
    data = ("\ufefftitle\tdescription\tdistrict\tdot_votes\n"
            "Nachtbus\t\"Erste Zeile\nzweite Zeile\"\tLobeda-Ost\t1\n"
            "Carsharing\tMehr Stationen\tWinzerla\t2\n").encode("utf-8")
    with app.test_request_context():
        result = importing.parse_file(data, "liste.tsv")
        assert result.ok, [error.format() for error in result.errors]
        assert result.delimiter == "\t"
        assert result.rows[0].text == "Erste Zeile\nzweite Zeile"
        assert [row.row for row in result.rows] == [2, 3]  # records, as a spreadsheet numbers them


def test_xlsx_file_imports_with_cells_of_every_type(app, idea_setup):
    data = xlsx_bytes([
        ["Titel", "Idee", "Stadtteil", "Handlungsfeld", "Herkunft", "Klebepunkte", "Datum"],
        ["Lastenrad leihen", "Kostenlose Lastenräder am Stadtteilzentrum", "Lobeda-Ost", "Mobilität",
         "Bürgerveranstaltung", 12, datetime(2025, 3, 20, 19, 15)],
        [None, None, None, None, None, None, None],
        ["Wärmepumpen-Beratung", "Beratung für Eigentümer im Plattenbau", "winzerla", "wohngebaeude",
         "Arbeitskreis", 4.0, "21.03.2025 10:00"],
    ])
    with app.test_request_context():
        result = importing.parse_file(data, "Karten.xlsx")
        assert result.ok, [error.format() for error in result.errors]
        assert (result.kind, result.sheet) == ("xlsx", "Ideen")
        assert [row.row for row in result.rows] == [2, 4]
        first, second = result.rows
        assert (first.source.value, first.dot_votes, first.sector.code) == ("event", 12, "mobilitaet")
        assert first.created_at == datetime(2025, 3, 20, 18, 15, tzinfo=timezone.utc)
        assert (second.source.value, second.dot_votes, second.district.code) == ("working_group", 4, "winzerla")
        importing.commit(result, None)
    assert ideas_count(app) == 2


def test_xlsx_errors_and_a_named_sheet(app, idea_setup):
    data = xlsx_bytes(
        [["Notizen"], ["nichts zu importieren"]],
        extra_sheets=[("Karten", [["Titel", "Text", "Stadtteil", "Punkte"],
                                  ["Gut", "Text", "Winzerla", 1],
                                  ["Schlecht", "Text", "Winzerla", 2.5],
                                  ["", "Text", "Nirgendwo", "drei"]])])
    with app.test_request_context():
        first_sheet = importing.parse_file(data, "mappe.xlsx")
        assert not first_sheet.ok
        assert {(error.row, error.field) for error in first_sheet.errors} >= {(1, "title"), (1, "district")}
        result = importing.parse_file(data, "mappe.xlsx", sheet="Karten")
        assert {(error.row, error.field) for error in result.errors} == {
            (3, "dot_votes"), (4, "title"), (4, "district"), (4, "dot_votes")}
        missing = importing.parse_file(data, "mappe.xlsx", sheet="Gibt es nicht")
        assert "Karten" in missing.errors[0].message and missing.errors[0].row is None


@pytest.mark.parametrize("data, filename, expected", [
    (b"Titel;Text;Stadtteil\nfoo;bar;Winzerla\n", "karten.xlsx", "keine gültige Excel-Datei"),
    (b"PK\x03\x04kaputt" + b"\x00" * 50, "karten.xlsx", "keine gültige Excel-Datei"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "alt.xls", "alten Excel-Format"),
    (b"", "leer.csv", "leer"),
    (b"Titel;Text;Stadtteil\n", "kopf.csv", "keine Ideen"),
    (b"Name;Nachricht\nA;B\n", "fremd.csv", "Keine Spalte für „Titel“"),
])
def test_unreadable_or_empty_files_give_a_clear_german_error(app, idea_setup, data, filename, expected):
    with app.test_request_context():
        result = importing.parse_file(data, filename)
    assert not result.ok and result.rows == []
    assert any(expected in error.message for error in result.errors), [e.message for e in result.errors]


def test_size_limit(app, idea_setup):
    with app.test_request_context():
        result = importing.parse_file(GOOD_CSV, "gross.csv", limit_bytes=100)
    assert "höchstens" in result.errors[0].message and not result.rows


def test_explicit_mapping_overrides_the_automatic_one(app, idea_setup):
    data = "Überschrift;Inhalt;Wo;Text\nBänke am Saaleufer;Mehr Schatten und Bänke;Wenigenjena;Notiz\n".encode()
    with app.test_request_context():
        automatic = importing.parse_file(data, "a.csv")
        assert automatic.mapping["title"] == 0 and automatic.mapping["text"] == 1
        assert automatic.mapping["district"] is None and not automatic.ok
        result = importing.parse_file(data, "a.csv", mapping={"district": "wo", "text": 1})
        assert result.ok and result.rows[0].district.code == "wenigenjena"
        assert result.rows[0].text == "Mehr Schatten und Bänke"
        unknown = importing.parse_file(data, "a.csv", mapping={"district": "Ort"})
        assert any("„Ort“" in error.message for error in unknown.errors)


def test_online_ideas_and_control_characters_are_refused(app, idea_setup):
    data = ("Titel;Text;Stadtteil;Quelle;Moderation\n"
            "Online-Idee;Text;Winzerla;online;\n"
            "Steuerzeichen\x07;Text;Winzerla;Brief;\n"
            "Unbekannte Quelle;Text;Winzerla;Flaschenpost;\n"
            "Zu lange Moderation;Text;Winzerla;;" + "M" * 121 + "\n").encode()
    with app.test_request_context():
        result = importing.parse_file(data, "q.csv")
        assert {(error.row, error.field) for error in result.errors} == {
            (2, "source"), (3, "title"), (4, "source"), (5, "facilitator")}
        assert "kein Konto" in result.errors[0].message
        online_default = importing.parse_file(GOOD_CSV, "q.csv", default_source="online")
        assert not online_default.ok and "kein Konto" in online_default.errors[0].message


def test_title_length_and_future_dates(app, idea_setup):
    data = ("Titel;Text;Stadtteil;Datum\n"
            + "T" * 121 + ";Text;Winzerla;\n"
            + "Zukunft;Text;Winzerla;01.01.2999\n"
            + "T" * 120 + ";Text;Winzerla;2024-05-01T09:30:00+02:00\n").encode()
    with app.test_request_context():
        result = importing.parse_file(data, "t.csv")
        assert {(error.row, error.field) for error in result.errors} == {(2, "title"), (3, "created_at")}
        assert result.rows[2].created_at == datetime(2024, 5, 1, 7, 30, tzinfo=timezone.utc)


# --- command line ---------------------------------------------------------------------------------

def run(app, *args):
    return app.test_cli_runner().invoke(args=["ideas", *args])


def test_cli_import_dry_run_writes_nothing(app, idea_setup, tmp_path):
    path = tmp_path / "ideen.csv"
    path.write_bytes(GOOD_CSV)
    result = run(app, "import", str(path), "--source", "workshop", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Probelauf: 3 Ideen" in result.output and "Zeile 2: Mehr Fahrradbügel am Holzmarkt" in result.output
    assert ideas_count(app) == 0


def test_cli_import_with_errors_exits_non_zero_and_imports_nothing(app, idea_setup, tmp_path):
    path = tmp_path / "kaputt.csv"
    path.write_bytes("Titel;Text;Stadtteil\nGut;Text;Winzerla\n;Text;Winzerla\nOrt;Text;Atlantis\n".encode())
    result = run(app, "import", str(path))
    assert result.exit_code == 2
    assert "Zeile 3, Titel: Der Titel fehlt." in result.stderr
    assert "Zeile 4, Stadtteil: Unbekannter Stadtteil „Atlantis“" in result.stderr
    assert "es wurde nichts importiert" in result.stderr
    assert ideas_count(app) == 0
    broken = tmp_path / "kein.xlsx"
    broken.write_text("das ist keine Excel-Datei")
    result = run(app, "import", str(broken))
    assert result.exit_code == 2 and "keine gültige Excel-Datei" in result.stderr
    assert ideas_count(app) == 0


def test_cli_import_writes_all_rows_with_source_encoding_and_staff(app, idea_setup, tmp_path, staff):
    path = tmp_path / "briefe.csv"
    path.write_bytes("Titel;Text;Stadtteil\nBänke;Mehr Bänke am Fluss;Wenigenjena\n".encode("cp1252"))
    result = run(app, "import", str(path), "--encoding", "cp1252", "--source", "letter", "--by", staff.email,
                 "--map", "district=Stadtteil")
    assert result.exit_code == 0, result.output
    assert "1 Ideen importiert" in result.output
    with app.app_context():
        idea = db.session.scalar(select(Idea))
        assert (idea.title, idea.source, idea.entered_by_id) == ("Bänke", "letter", staff.id)
    assert run(app, "import", str(path), "--source", "online").exit_code != 0  # not offered
    assert run(app, "import", str(path), "--by", "niemand@example.org").exit_code == 2
    assert ideas_count(app) == 1


# --- staff pages ----------------------------------------------------------------------------------

@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """Keep the uploads of a test in its own folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "imports"


def upload(client, data, filename, **fields):
    form = {"file": (io.BytesIO(data), filename), "source": "event", "encoding": "utf-8", **fields}
    return post_form(client, "/verwaltung/ideen/import", form, content_type="multipart/form-data")


def mapping_form(page, **overrides):
    """The mapping form as the browser would send it, from the rendered page."""
    html = page.get_data(as_text=True)
    data = {}
    for element in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', element.group(2))
        data[element.group(1)] = next(value for value in selected.groups() if value is not None) if selected else ""
    data.update(overrides)
    return data


def test_web_import_end_to_end_with_double_confirm(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    assert client.get("/verwaltung/ideen/import").status_code == 200
    response = upload(client, GOOD_CSV, "Werkstatt März.csv")
    assert response.status_code == 302 and response.headers["Location"].endswith("/verwaltung/ideen/import/zuordnung")
    stored = list(uploads.iterdir())
    assert len(stored) == 1 and re.fullmatch(r"[A-Za-z0-9_-]{32,64}", stored[0].name)  # never the user's name
    with client.session_transaction() as session:
        assert session["idea_import"]["filename"] == "Werkstatt März.csv"

    page = client.get("/verwaltung/ideen/import/zuordnung")
    assert page.status_code == 200
    form = mapping_form(page)
    assert form["col_title"] == "0" and form["col_district"] == "3" and form["col_created_at"] == "8"
    assert form["source"] == "event"
    response = post_form(client, "/verwaltung/ideen/import/zuordnung", form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/vorschau")

    preview = client.get("/verwaltung/ideen/import/vorschau")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "3 Ideen jetzt importieren" in html
    assert "Mehr Fahrradbügel am Holzmarkt" in html and "Repair-Café in Winzerla" in html
    assert ideas_count(app) == 0  # the dry run writes nothing
    token_input = re.search(r'<input[^>]*name="token"[^>]*>', html).group(0)
    token = re.search(r'value="([^"]+)"', token_input).group(1)
    with client.session_transaction() as session:
        before = dict(session["idea_import"])

    response = post_form(client, "/verwaltung/ideen/import/bestaetigen", {"token": token})
    assert response.status_code == 302
    assert ideas_count(app) == 3
    assert list(uploads.iterdir()) == []  # the upload is gone after the import
    with app.app_context():
        sources = sorted(db.session.scalars(select(Idea.source)))
        assert sources == ["event", "workshop", "workshop"]  # the form default where the file names none
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ideas.imported"))
        assert entry.details["file"] == "Werkstatt März.csv" and entry.actor_id == staff.id

    # A second click: the token is consumed.
    again = post_form(client, "/verwaltung/ideen/import/bestaetigen", {"token": token}, follow_redirects=True)
    assert "bereits ausgeführt" in again.get_data(as_text=True)
    # Even with the old session (a second tab, a replayed cookie) the file is gone.
    with client.session_transaction() as session:
        session["idea_import"] = before
    again = post_form(client, "/verwaltung/ideen/import/bestaetigen", {"token": token}, follow_redirects=True)
    assert again.status_code == 200 and "bereits ausgeführt" in again.get_data(as_text=True)
    assert ideas_count(app) == 3


def test_web_import_with_errors_shows_every_row_and_imports_nothing(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    data = (b"Titel;Text;Stadtteil\nGut;Text;Winzerla\nBytes \xff;Text;Winzerla\n;Ohne Titel;Winzerla\n"
            b"Ort;Text;Atlantis\nLang;" + b"y" * 5001 + b";Winzerla\n")
    upload(client, data, "kaputt.csv")
    form = mapping_form(client.get("/verwaltung/ideen/import/zuordnung"))
    post_form(client, "/verwaltung/ideen/import/zuordnung", form)
    html = client.get("/verwaltung/ideen/import/vorschau").get_data(as_text=True)
    assert "4 Fehler – es wird nichts importiert" in html
    for row in ("3", "4", "5", "6"):
        assert re.search(rf'<th scope="row" class="num">{row}</th>', html), row
    assert "jetzt importieren" not in html
    with client.session_transaction() as session:
        token = session["idea_import"]["token"]
    response = post_form(client, "/verwaltung/ideen/import/bestaetigen", {"token": token}, follow_redirects=True)
    assert "Es wurde nichts importiert: 4 Fehler" in response.get_data(as_text=True)
    assert ideas_count(app) == 0
    assert len(list(uploads.iterdir())) == 1  # kept for a corrected mapping
    report = client.get("/verwaltung/ideen/import/fehler.csv")
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and text.startswith("\ufeffZeile;Feld;Meldung")
    assert "5;Stadtteil;Unbekannter Stadtteil „Atlantis“" in text


def test_web_upload_of_a_broken_xlsx_is_a_clear_error(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    response = upload(client, b"Titel;Text\nfoo;bar\n", "karten.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "keine gültige Excel-Datei" in html
    assert not uploads.exists() or list(uploads.iterdir()) == []
    response = upload(client, b"irgendwas", "bild.png")
    assert "CSV-Datei (.csv) oder eine Excel-Datei (.xlsx)" in response.get_data(as_text=True)
    response = post_form(client, "/verwaltung/ideen/import", {"source": "event", "encoding": "utf-8"})
    assert response.status_code == 200 and "Bitte wählen Sie eine Datei aus." in response.get_data(as_text=True)


def test_web_upload_size_limit(app, client, idea_setup, staff, uploads, monkeypatch):
    login_as(client, staff)
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 200)
    response = upload(client, GOOD_CSV, "gross.csv")
    assert response.status_code == 200 and "erlaubt sind höchstens" in response.get_data(as_text=True)


def test_web_xlsx_with_sheet_and_encoding_change(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    data = xlsx_bytes([["Notizen"]], extra_sheets=[("Karten", [["Titel", "Text", "Stadtteil"],
                                                               ["Gut", "Text", "Winzerla"]])])
    upload(client, data, "mappe.xlsx")
    page = client.get("/verwaltung/ideen/import/zuordnung")
    form = mapping_form(page)
    assert form["sheet"] == "Ideen" and form["col_title"] == ""
    response = post_form(client, "/verwaltung/ideen/import/zuordnung", {**form, "sheet": "Karten"})
    assert response.headers["Location"].endswith("/zuordnung")  # re-read, back to the mapping
    form = mapping_form(client.get("/verwaltung/ideen/import/zuordnung"))
    assert form["sheet"] == "Karten" and form["col_title"] == "0"
    post_form(client, "/verwaltung/ideen/import/zuordnung", form)
    html = client.get("/verwaltung/ideen/import/vorschau").get_data(as_text=True)
    assert "1 Idee jetzt importieren" in html

    # CSV from old Excel uploaded as UTF-8: switching the encoding re-reads the columns.
    data = "Überschrift;Text;Stadtteil\nGrün;Mehr Grün;Winzerla\n".encode("cp1252")
    upload(client, data, "alt.csv")
    form = mapping_form(client.get("/verwaltung/ideen/import/zuordnung"))
    assert form["encoding"] == "utf-8" and form["col_title"] == ""
    response = post_form(client, "/verwaltung/ideen/import/zuordnung", {**form, "encoding": "cp1252"})
    assert response.headers["Location"].endswith("/zuordnung")
    page = client.get("/verwaltung/ideen/import/zuordnung")
    form = mapping_form(page)
    assert form["encoding"] == "cp1252" and form["col_title"] == "0"
    assert "A: Überschrift" in page.get_data(as_text=True)
    post_form(client, "/verwaltung/ideen/import/zuordnung", form)
    html = client.get("/verwaltung/ideen/import/vorschau").get_data(as_text=True)
    assert "1 Idee jetzt importieren" in html and "Mehr Grün" in html


def test_web_mapping_requires_the_required_columns(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    upload(client, GOOD_CSV, "ideen.csv")
    form = mapping_form(client.get("/verwaltung/ideen/import/zuordnung"), col_district="")
    response = post_form(client, "/verwaltung/ideen/import/zuordnung", form)
    assert response.status_code == 200
    assert "Bitte wählen Sie die Spalte für dieses Pflichtfeld." in response.get_data(as_text=True)


def test_cancel_and_stale_uploads_are_removed(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    upload(client, GOOD_CSV, "ideen.csv")
    assert len(list(uploads.iterdir())) == 1
    post_form(client, "/verwaltung/ideen/import/abbrechen")
    assert list(uploads.iterdir()) == []
    assert client.get("/verwaltung/ideen/import/vorschau").status_code == 302

    old = uploads / ("a" * 43)
    old.write_bytes(b"alt")
    fresh = uploads / ("b" * 43)
    fresh.write_bytes(b"neu")
    day_ago = time.time() - 25 * 60 * 60
    os.utime(old, (day_ago, day_ago))
    assert client.get("/verwaltung/ideen/import").status_code == 200  # a new import starts
    assert not old.exists() and fresh.exists()


def test_a_second_upload_replaces_the_first(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    upload(client, GOOD_CSV, "erste.csv")
    upload(client, GOOD_CSV, "zweite.csv")
    assert len(list(uploads.iterdir())) == 1
    with client.session_transaction() as session:
        assert session["idea_import"]["filename"] == "zweite.csv"


def test_import_pages_are_for_staff_only(app, client, idea_setup, users, uploads):
    login_as(client, users["member"])
    assert client.get("/verwaltung/ideen/import").status_code == 403
    response = upload(client, GOOD_CSV, "ideen.csv")
    assert response.status_code == 403 and not uploads.exists()


def test_import_without_csrf_token_is_refused(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    response = client.post("/verwaltung/ideen/import", data={"file": (io.BytesIO(GOOD_CSV), "ideen.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and not uploads.exists()


def test_filenames_from_the_browser_never_become_paths(app, client, idea_setup, staff, uploads):
    login_as(client, staff)
    upload(client, GOOD_CSV, "../../etc/passwd.csv")
    with client.session_transaction() as session:
        assert session["idea_import"]["filename"] == "passwd.csv"
    assert [path.parent for path in uploads.iterdir()] == [uploads]
    assert not Path(app.instance_path, "..", "etc").exists()


def test_every_documented_column_name_is_recognised(app):
    for target, names in importing.COLUMN_EXAMPLES.items():
        for name in names:
            assert importing.auto_mapping([name])[target] == 0, (target, name)


def test_invalid_bytes_in_a_column_that_is_not_imported_do_not_matter(app, idea_setup):
    data = b"Titel;Text;Stadtteil;Notizen\nBank;Mehr B\xe4nke;Winzerla;intern\nFluss;Ufer;Winzerla;Stra\xdfe\n"
    with app.test_request_context():
        result = importing.parse_file(data, "n.csv")
        assert error_rows(result) == [2]  # the text of row 2, not the note of row 3
        assert result.errors[0].field == "text"
