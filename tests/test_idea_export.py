"""Exporting ideas: `flask ideas export` in CSV, XLSX and JSON, open data without personal
data, the full export for staff, formula injection, and `flask ideas reindex`."""
import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from beteiligung.extensions import db

CITIZEN_EMAIL = "autorin-export@example.org"


def run(app, *args):
    return app.test_cli_runner().invoke(args=["ideas", *args])


@pytest.fixture
def exported_ideas(app, idea_setup, make_user, make_idea):
    """An online idea with 2 supports and 3 comments, a workshop card whose title is a formula,
    and a hidden idea."""
    from beteiligung.auth.models import User
    from beteiligung.ideas import services
    from beteiligung.ideas.models import Idea

    author = make_user(email=CITIZEN_EMAIL, name="Erika Export")
    supporters = [make_user(email=f"fan{n}@example.org") for n in range(2)]
    online = make_idea(title="Radweg an der Saale", author=author)
    formula = make_idea(title='=HYPERLINK("http://boese.example","Klick")', text="+49 Telefonnummer als Text",
                        source="workshop", event_name="@Werkstatt", dot_votes=5, sector=None)
    hidden = make_idea(title="Ausgeblendete Idee", author=author)
    with app.test_request_context():
        idea = db.session.get(Idea, online)
        for supporter in supporters:
            services.add_support(idea, db.session.get(User, supporter.id))
        for number in range(3):
            services.add_comment(idea, db.session.get(User, supporters[number % 2].id), f"Kommentar {number}")
        services.hide(db.session.get(Idea, hidden), None, "Test")
        db.session.commit()
    return {"online": online, "formula": formula, "hidden": hidden}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_xlsx(path):
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    workbook.close()
    return [dict(zip(header, row)) for row in rows[1:]]


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


READERS = {"csv": read_csv, "xlsx": read_xlsx, "json": read_json}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_public_export_has_counts_and_no_personal_data(app, exported_ideas, tmp_path, fmt):
    output = tmp_path / f"ideen.{fmt}"
    result = run(app, "export", "--format", fmt, "--output", str(output), "--base-url", "https://klima.example")
    assert result.exit_code == 0, result.output
    assert "2 Ideen exportiert" in result.output
    raw = output.read_bytes()
    assert b"@example.org" not in raw and b"Erika" not in raw  # no e-mail addresses, no names
    rows = {int(row["id"]): row for row in READERS[fmt](output)}
    assert set(rows) == {exported_ideas["online"], exported_ideas["formula"]}  # the hidden one is left out
    online = rows[exported_ideas["online"]]
    assert int(online["supports"]) == 2 and int(online["comments"]) == 3
    assert online["url"] == f"https://klima.example/ideen/{exported_ideas['online']}"
    assert "author_email" not in online and "author_name" not in online and "facilitator" not in online
    assert "latitude" in online  # the map point is published on the idea's page, so it is open data too
    card = rows[exported_ideas["formula"]]
    assert int(card["dot_votes"]) == 5 and card["source"] == "workshop"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_full_export_adds_personal_data_and_hidden_ideas(app, exported_ideas, tmp_path, fmt):
    output = tmp_path / f"voll.{fmt}"
    result = run(app, "export", "--format", fmt, "--output", str(output), "--full")
    assert result.exit_code == 0, result.output
    assert "3 Ideen exportiert" in result.output and "personenbezogenen Daten" in result.output
    rows = {int(row["id"]): row for row in READERS[fmt](output)}
    assert set(rows) == set(exported_ideas.values())
    assert rows[exported_ideas["online"]]["author_email"] == CITIZEN_EMAIL
    assert rows[exported_ideas["hidden"]]["hidden_reason"] == "Test"
    assert (output.stat().st_mode & 0o777) == 0o600  # personal data: readable by the owner only


def test_formulas_are_defused_in_csv_and_xlsx_but_not_in_json(app, exported_ideas, tmp_path):
    title = '=HYPERLINK("http://boese.example","Klick")'
    for fmt in ("csv", "xlsx", "json"):
        assert run(app, "export", "--format", fmt, "--output", str(tmp_path / f"x.{fmt}")).exit_code == 0
    card = next(row for row in read_csv(tmp_path / "x.csv") if int(row["id"]) == exported_ideas["formula"])
    assert card["title"] == "'" + title
    assert card["text"] == "'+49 Telefonnummer als Text" and card["event_name"] == "'@Werkstatt"

    workbook = load_workbook(tmp_path / "x.xlsx")  # not read-only: the cell types are visible
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = next(cells for cells in sheet.iter_rows(min_row=2) if cells[0].value == exported_ideas["formula"])
    cell = row[header.index("title")]
    assert cell.value == "'" + title and cell.data_type == "s"  # a string, not a formula
    assert not any(cell.data_type == "f" for cells in sheet.iter_rows() for cell in cells)

    card = next(row for row in read_json(tmp_path / "x.json") if row["id"] == exported_ideas["formula"])
    assert card["title"] == title  # JSON is not a spreadsheet: the data stays as it is


def test_export_to_stdout_and_bad_arguments(app, exported_ideas, tmp_path):
    result = run(app, "export", "--format", "json", "--output", "-")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 2 and "2 Ideen exportiert" in result.stderr
    assert run(app, "export", "--format", "pdf", "--output", str(tmp_path / "x.pdf")).exit_code != 0
    result = run(app, "export", "--format", "csv", "--output", str(tmp_path / "fehlt" / "x.csv"))
    assert result.exit_code == 2 and "gibt es nicht" in result.stderr
    result = run(app, "export", "--format", "csv", "--output", str(tmp_path / "x.csv"), "--base-url", "ftp://x")
    assert result.exit_code == 2


def test_empty_export_is_still_valid(app, idea_setup, tmp_path):
    for fmt in ("csv", "xlsx", "json"):
        output = tmp_path / f"leer.{fmt}"
        result = run(app, "export", "--format", fmt, "--output", str(output))
        assert result.exit_code == 0 and "0 Ideen exportiert" in result.output
        assert READERS[fmt](output) == []


def test_xlsx_export_survives_control_characters(app, idea_setup, make_idea):
    from beteiligung.ideas.exporting import export
    from beteiligung.ideas.models import Idea

    idea_id = make_idea(title="Normale Idee", text="Text")
    with app.app_context():  # as if an older import or the database had let one through
        db.session.get(Idea, idea_id).text = "Text mit \x0b Steuerzeichen"
        db.session.commit()
    with app.test_request_context():
        data = export("xlsx")
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][rows[0].index("text")] == "Text mit  Steuerzeichen"


def test_reindex_rebuilds_the_search_index(app, idea_setup, make_idea, client):
    make_idea(title="Photovoltaik auf dem Rathausdach", text="Solarstrom für die Verwaltung")
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        if sqlite:
            db.session.execute(text("DELETE FROM idea_search"))
            db.session.commit()
    result = run(app, "reindex")
    assert result.exit_code == 0, result.output
    if sqlite:
        assert "1 Ideen" in result.output
        with app.app_context():
            found = db.session.execute(text("SELECT rowid FROM idea_search WHERE idea_search MATCH 'photovolta*'"))
            assert len(found.all()) == 1
    else:
        assert "PostgreSQL" in result.output
