"""`python -m analyse cluster|similar|evaluate`: output files, printed figures, and bad input."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyse.cli import main, purity

from .test_analyse_pipeline import IDEAS

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["nr", "thema", "feld", "titel", "beschreibung", "extra"]


def write_ideas(path, ideas=IDEAS, delimiter=",", encoding="utf-8", extra_rows=()):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(HEADER)
        for number, (topic, sector, title, text) in enumerate(ideas, start=1):
            writer.writerow([f"I-{number}", topic, sector, title, text, "ignoriert"])
        writer.writerows(extra_rows)
    return path


@pytest.fixture
def ideas_csv(tmp_path):
    # Row 41 has a quoted text over two lines, row 42 no usable words, row 43 no text at all.
    extra = [["I-41", "rad", "mobilitaet", "Radweg an der Saale", "Der Radweg an der Saale,\nbitte verbreitern", ""],
             ["I-42", "", "", "", "und die der", ""], ["I-43", "", "", "", "", ""]]
    return write_ideas(tmp_path / "ideen.csv", extra_rows=extra)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "analyse", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


def test_cluster_writes_one_row_per_input_row(ideas_csv, tmp_path):
    output = tmp_path / "ergebnis.csv"
    result = run_cli("cluster", ideas_csv, "--text-column", "beschreibung", "--title-column", "titel",
                     "--id-column", "nr", "--k", "4", "--seed", "1", "--output", output)
    assert result.returncode == 0, result.stderr
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,cluster,cluster_label,sector,sector_confidence"
    rows = list(csv.DictReader(lines))
    assert [row["id"] for row in rows] == [f"I-{number}" for number in range(1, 44)]
    assert {row["cluster"] for row in rows[:41]} == {"0", "1", "2", "3"}
    assert all(row["cluster_label"] and row["sector"] and 0 <= float(row["sector_confidence"]) <= 1
               for row in rows[:41])
    assert [(row["cluster"], row["cluster_label"], row["sector"]) for row in rows[41:]] == [("-1", "", "")] * 2
    assert "2 Zeilen ohne verwertbaren Text" in result.stdout and "I-42, I-43" in result.stdout
    assert "Mobilität" in result.stdout and "4 Gruppen (k vorgegeben)" in result.stdout


def test_cluster_without_id_column_numbers_rows_and_reads_sector_file(ideas_csv, tmp_path):
    sectors = tmp_path / "felder.json"
    sectors.write_text(json.dumps([
        {"code": "rad", "name": "Radverkehr", "seed_terms": ["Radweg", "Fahrrad"]},
        {"code": "rest", "name": "Alles andere", "description": "Solar, Bäume, Häuser", "seed_terms": "Dach, Baum"},
    ]), encoding="utf-8")
    output = tmp_path / "ergebnis.csv"
    code = main(["cluster", str(ideas_csv), "--text-column", "beschreibung", "--sectors", str(sectors),
                 "--output", str(output)])
    assert code == 0
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [row["id"] for row in rows] == [str(number) for number in range(1, 44)]
    assert {row["sector"] for row in rows[:41]} == {"rad", "rest"}
    assert rows[0]["sector"] == "rad"


def test_sector_file_as_csv(ideas_csv, tmp_path, capsys):
    sectors = tmp_path / "felder.csv"
    sectors.write_text('code;name;description;seed_terms\nrad;Radverkehr;;"Radweg, Fahrrad"\n'
                       "rest;Anderes;Solar und Bäume;Dach\n", encoding="utf-8")
    output = tmp_path / "ergebnis.csv"
    assert main(["cluster", str(ideas_csv), "--text-column", "beschreibung", "--sectors", str(sectors),
                 "--output", str(output)]) == 0
    assert {row["sector"] for row in csv.DictReader(output.open(encoding="utf-8"))} == {"rad", "rest", ""}


def test_similar_prints_ranked_rows(ideas_csv, capsys):
    assert main(["similar", str(ideas_csv), "--text-column", "beschreibung", "--title-column", "titel",
                 "--id-column", "nr", "--query", "Abstellplätze für Fahrräder am Bahnhof", "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].split()[:2] == ["Rang", "Ähnlichkeit"]
    first = lines[1].split()
    assert first[0] == "1" and first[2] in ("I-2", "I-6") and 0 < float(first[1]) <= 1


def test_evaluate_prints_the_measures(ideas_csv, capsys):
    code = main(["evaluate", str(ideas_csv), "--text-column", "beschreibung", "--title-column", "titel",
                 "--label-column", "thema", "--sector-column", "feld", "--k", "4"])
    out = capsys.readouterr().out
    assert code == 0
    figures = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert float(figures["NMI"]) > 0.6 and -1 <= float(figures["ARI"]) <= 1 and float(figures["Purity"]) > 0.8
    assert figures["Cluster"].startswith("4") and figures["Labels"] == "4"
    assert "2 ohne Text" in out or "1 ohne Text" in out
    assert "Handlungsfeld (Zero-Shot) richtig" in out and "Zeit" in figures


def test_purity():
    assert purity(["a", "a", "b", "b"], [0, 0, 0, 1]) == 0.75


@pytest.mark.parametrize("content, message", [
    (b"", "ist leer"),
    (b"nr,titel,beschreibung\n", "nur die Kopfzeile"),
    (b'nr,titel,beschreibung\n1,"Radweg,ohne Ende\n', "keine gültige CSV-Datei"),
    (b"nr,titel,beschreibung\n1,Radweg,Saale,zu viel,noch mehr\n", "keine gültige CSV-Datei"),
    (b"nr,titel,beschreibung\n1,Radweg,\n2,,\n", "enthält in keiner Zeile Text"),
    (b"nr,titel,text\n1,Radweg,Saale\n", "Die Spalte „beschreibung“ (--text-column) fehlt. Vorhandene Spalten: „nr“"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "Binärdaten"),
])
def test_bad_input_gives_one_german_line_and_exit_code_2(tmp_path, capsys, content, message):
    path = tmp_path / "kaputt.csv"
    path.write_bytes(content)
    assert main(["cluster", str(path), "--text-column", "beschreibung", "--output", str(tmp_path / "o.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Fehler: ") and captured.err.count("\n") == 1 and message in captured.err
    assert not (tmp_path / "o.csv").exists()


def test_missing_file_through_the_real_command(tmp_path):
    result = run_cli("evaluate", tmp_path / "gibt-es-nicht.csv", "--text-column", "t", "--label-column", "l")
    assert result.returncode == 2
    assert result.stderr.startswith("Fehler: Die Datei") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_bad_option_is_one_line_too(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["cluster", "x.csv", "--text-column", "t", "--k", "null", "--output", "o.csv"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Fehler: ") and err.count("\n") == 1


def test_windows_1252_and_semicolons_are_read(tmp_path, capsys):
    path = write_ideas(tmp_path / "excel.csv", delimiter=";", encoding="cp1252")
    assert main(["similar", str(path), "--text-column", "beschreibung", "--id-column", "nr",
                 "--query", "Wärmedämmung für Häuser"]) == 0
    out = capsys.readouterr().out
    assert "I-" in out and "Wärme" in out


def test_utf8_with_bom_and_tabs(tmp_path, capsys):
    path = tmp_path / "tabs.csv"
    path.write_text("\ufeffnr\tbeschreibung\n1\tBäume pflanzen\n2\tRadwege bauen\n3\tMehr Bäume im Park\n",
                    encoding="utf-8")
    assert main(["similar", str(path), "--text-column", "beschreibung", "--id-column", "nr",
                 "--query", "Bäume"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {lines[1].split()[2], lines[2].split()[2]} == {"1", "3"}
