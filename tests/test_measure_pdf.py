"""The measure plan as PDF: a valid file with title page, contents and one sheet per measure on its own
page, readable text, the background export with its states and progress, and the downloads."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from beteiligung.extensions import db
from beteiligung.measures import exports, pdf
from beteiligung.measures.models import PlanExport
from beteiligung.models import utcnow

from .conftest import login_as, post_form
from .test_measure_exchange import build_rich_plan


# --- reading a PDF without a PDF library (pypdf is not a dependency) -------------------------------------

_OBJECT = re.compile(rb"(\d+) 0 obj\n(.*?)\nendobj", re.S)
_LITERAL = rb"\((?:\\.|[^\\)])*\)"
_STRING = re.compile(rb"/F(\d+)\s+[\d.]+\s+Tf|(" + _LITERAL + rb")\s*Tj|\[((?:" + _LITERAL + rb"|[^\]])*)\]\s*TJ", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape(raw):
    out, index = bytearray(), 0
    while index < len(raw):
        char = raw[index:index + 1]
        if char == b"\\":
            following = raw[index + 1:index + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[index + 1:index + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                index += 1 + len(octal.group(0))
                continue
            out += _ESCAPES.get(following, following)
            index += 2
        else:
            out += char
            index += 1
    return bytes(out)


class PdfText:
    """Pages (in order) with their text, from an uncompressed fpdf2 file with embedded TrueType fonts."""

    def __init__(self, data):
        self.objects = {int(number): body for number, body in _OBJECT.findall(data)}
        fonts = {}  # resource name -> {glyph code: character}
        for body in self.objects.values():
            resources = re.search(rb"/Font\s*<<(.*?)>>", body, re.S)
            if resources:
                for name, number in re.findall(rb"/F(\d+)\s+(\d+) 0 R", resources.group(1)):
                    fonts[int(name)] = self._cmap(int(number))
        self.fonts = fonts
        kids = re.search(rb"/Type /Pages.*?/Kids \[([^\]]*)\]|/Kids \[([^\]]*)\].*?/Type /Pages", data, re.S)
        kids = kids.group(1) or kids.group(2)
        self.pages = [self._page_text(int(number)) for number in re.findall(rb"(\d+) 0 R", kids)]

    def _cmap(self, font_number):
        reference = re.search(rb"/ToUnicode (\d+) 0 R", self.objects[font_number])
        stream = self.objects[int(reference.group(1))]
        return {int(code, 16): chr(int(char, 16)) for code, char in re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]{4,})>",
                                                                              stream.split(b"beginbfchar", 1)[1])}

    def _page_text(self, number):
        contents = re.search(rb"/Contents (\d+) 0 R", self.objects[number]).group(1)
        stream = self.objects[int(contents)].split(b"stream\n", 1)[1]
        texts, font = [], None
        for match in _STRING.finditer(stream):
            if match.group(1):
                font = self.fonts[int(match.group(1))]
                continue
            literals = [match.group(2)] if match.group(2) else re.findall(_LITERAL, match.group(3))
            raw = b"".join(_unescape(literal[1:-1]) for literal in literals)
            texts.append("".join(font.get(int.from_bytes(raw[i:i + 2], "big"), "?") for i in range(0, len(raw), 2)))
        return texts


def outline_titles(data):
    """The /Title strings of the file: the outline entries and the document title."""
    titles = []
    for literal, hexa in re.findall(rb"/Title \(((?:\\.|[^\\)])*)\)|/Title <([0-9A-Fa-f]+)>", data):
        if hexa:
            titles.append(bytes.fromhex(hexa.decode()).decode("utf-16"))
        else:
            titles.append(_unescape(literal).decode("latin-1"))
    return titles


@pytest.fixture
def plan(app, idea_setup, make_idea):
    from beteiligung.ideas.models import Idea
    from beteiligung.measures import services
    from beteiligung.measures.models import Measure

    idea_ids = [make_idea(title="Schulen ans Wärmenetz"), make_idea(title="Mehr Photovoltaik auf Dächern")]
    with app.test_request_context():
        numbers = build_rich_plan()
        measure = db.session.scalar(select(Measure).where(Measure.number == numbers[0]))
        services.link_ideas(measure, [db.session.get(Idea, idea_id) for idea_id in idea_ids], None, "Passt.")
        db.session.commit()
    return numbers


def build(app, **kwargs):
    with app.test_request_context():
        return pdf.build_plan_pdf(compress=False, **kwargs)


# --- the document ------------------------------------------------------------------------------------------

def test_the_plan_is_a_pdf_with_title_contents_and_one_sheet_per_measure(app, plan):
    steps = []
    data = build(app, progress=lambda done, total: steps.append((done, total)))
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert steps == [(1, 3), (2, 3), (3, 3)]
    document = PdfText(data)
    pages = document.pages
    assert len(re.findall(rb"/Type /Page\b(?!s)", data)) == len(pages) >= 3 + 2  # sheets, title, contents
    assert "Klimaschutzplan" in pages[0] and "Stadt Jena" in pages[0] and "3 Maßnahmen · 3 Handlungsfelder" in pages[0]
    assert "Inhaltsverzeichnis" in pages[1]
    contents = " ".join(pages[1])
    # Each measure starts a page of its own: its number is the first line under the running header.
    starts = {}
    for index, texts in enumerate(pages):
        body = texts[2:3]
        for number in plan:
            if body == [number]:
                starts[number] = index + 1
    assert sorted(starts) == sorted(plan) and len(set(starts.values())) == 3
    for number, page in starts.items():
        assert re.search(rf"{re.escape(number)} .*? {page}\b", contents), (number, page)  # the page in the contents
    assert all(f"Seite {n} von {len(pages)}" in "".join(texts)  # in the footer of every page after the title
               for n, texts in enumerate(pages[1:], start=2))

    rich = " ".join(" ".join(texts) for texts in pages[starts["M-5.1"] - 1:starts["M-6.1"] - 1])
    with app.test_request_context():
        from beteiligung.measures.models import Measure
        from beteiligung.measures.services import savings_explanation

        explanation = savings_explanation(db.session.scalar(select(Measure).where(Measure.number == "M-5.1")))
    for expected in ("Wärmenetz Lobeda – Anschluss öffentlicher Gebäude", "Überblick", "Zuständigkeit und Zeitplan",
                     "Kosten und Finanzierung", "Wirkung", "Stand der Umsetzung", "1.250.000,50 €",
                     "Ausschreibung | Los 1", "20.06.2026", "Erdgas", "-120,5", "Angeschlossene Gebäude",
                     "2023: 15 (Zählung; Mai [vorläufig])", explanation,
                     "Aus der Beteiligung", "2 Ideen sind in diese Maßnahme eingeflossen",
                     "Schulen ans Wärmenetz", "Fachdienst Umwelt <script>alert(1)</script>"):
        assert expected in rich, expected
    assert "**" not in rich and "•" in rich and "Dämmung der Fassaden" in rich  # markdown-ish text made plain


def test_outline_and_metadata(app, plan):
    data = build(app)
    assert sorted(outline_titles(data)) == sorted([
        "Klimaschutzplan Stadt Jena – Maßnahmenplan",  # the document title
        "Kommunale Verwaltung", "M-3.10 Straßenbeleuchtung auf LED", "Energieversorgung",
        "M-5.1 Wärmenetz Lobeda – Anschluss öffentlicher Gebäude", "Übergreifend", "M-6.1 Repair-Café fördern"])
    assert re.search(rb"/Outlines \d+ 0 R", data)
    assert b"/Lang (de)" in data


def test_a_long_plan_gets_a_contents_of_several_pages_with_right_page_numbers(app, idea_setup):
    from beteiligung.ideas.services import find_sector
    from beteiligung.measures.models import Measure

    count = 45
    with app.test_request_context():
        sector_id = find_sector("energie").id
        db.session.add_all(Measure(number=f"M-5.{n}", title=f"Maßnahme Nummer {n} mit einem Titel, der so lang ist, "
                                   f"dass er im Inhaltsverzeichnis umbricht", sector_id=sector_id)
                           for n in range(1, count + 1))
        db.session.commit()
    document = PdfText(build(app))
    contents_pages = [index for index, texts in enumerate(document.pages) if "Inhaltsverzeichnis" in texts]
    assert contents_pages == [1]
    sector_page = next(n for n, texts in enumerate(document.pages, start=1)
                       if f"{count} Maßnahmen in diesem Handlungsfeld:" in texts)
    assert sector_page >= 4  # title, contents over at least two pages
    sheets = {texts[2]: n for n, texts in enumerate(document.pages, start=1) if re.fullmatch(r"M-5\.\d+", texts[2])}
    assert len(sheets) == count
    contents = [text for texts in document.pages[1:sector_page - 1] for text in texts]
    assert contents[contents.index("Energieversorgung") + 1] == str(sector_page)
    for number in ("M-5.1", "M-5.2", "M-5.30", f"M-5.{count}"):
        entry = next(index for index, text in enumerate(contents) if text.startswith(number + " "))
        assert contents[entry + 2] == str(sheets[number]), number  # the title wraps onto a second line


def test_text_blocks_drop_emphasis_and_keep_bullets():
    assert pdf.text_blocks("Ein **wichtiger** und *betonter* Satz.\nZweite Zeile.\n\n- eins\n* zwei\n\nEnde 5 * 3") == [
        ("paragraph", "Ein wichtiger und betonter Satz.\nZweite Zeile."), ("bullet", "eins"), ("bullet", "zwei"),
        ("paragraph", "Ende 5 * 3")]


def test_an_empty_plan_still_gives_a_pdf(app, idea_setup):
    data = build(app)
    assert data.startswith(b"%PDF") and any("noch keine Maßnahmen" in " ".join(texts)
                                            for texts in PdfText(data).pages)


# --- the background export -------------------------------------------------------------------------------

@pytest.fixture
def staff(users):
    return users["staff"]


def test_export_job_runs_and_reports_done(app, plan, staff):
    from beteiligung.auth.models import User

    with app.test_request_context():
        export = exports.start_pdf_export(db.session.get(User, staff.id))
        assert (export.state, export.done, export.total) == ("done", 3, 3)
        assert export.content.startswith(b"%PDF") and export.size == len(export.content)
        assert exports.latest_pdf().id == export.id and exports.active_export() is None


def test_a_second_start_returns_the_running_export_and_a_silent_one_counts_failed(app, plan, staff):
    with app.test_request_context():
        running = PlanExport(fmt="pdf", state="running", done=1, total=3, heartbeat_at=utcnow())
        db.session.add(running)
        db.session.commit()
        assert exports.start_pdf_export(None).id == running.id
        running.heartbeat_at = utcnow() - timedelta(minutes=31)
        db.session.commit()
        fresh = exports.start_pdf_export(None)
        assert fresh.id != running.id and fresh.state == "done"
        db.session.refresh(running)
        assert running.state == "failed" and "30 Minuten" in running.error


def test_a_failing_export_is_marked_failed(app, plan, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("Schriftart fehlt")

    monkeypatch.setattr(pdf, "build_plan_pdf", broken)
    with app.test_request_context():
        export = exports.start_pdf_export(None)
        assert export.state == "failed" and "Schriftart fehlt" in export.error
        assert exports.latest_pdf() is None


def test_only_the_newest_finished_exports_are_kept(app, idea_setup):
    with app.test_request_context():
        for _ in range(exports.KEEP_FINISHED + 1):
            exports.start_pdf_export(None)
        kept = db.session.scalars(select(PlanExport.id).order_by(PlanExport.id)).all()
        assert len(kept) == exports.KEEP_FINISHED and exports.latest_pdf().id == kept[-1]


def test_staff_start_follow_and_download_the_pdf(app, client, plan, staff):
    login_as(client, staff)
    assert client.get("/massnahmen/massnahmenplan.pdf").status_code == 404  # nothing generated yet
    response = post_form(client, "/verwaltung/massnahmen/export", {"fmt": "pdf"})
    assert response.status_code == 302
    location = response.headers["Location"]
    export_id = int(re.search(r"/export/(\d+)$", location).group(1))
    page = client.get(location).get_data(as_text=True)
    assert "Das PDF ist fertig" in page and f"/export/{export_id}/datei" in page
    status = client.get(f"/verwaltung/massnahmen/export/{export_id}/fortschritt").get_json()
    assert status == {"state": "done", "state_label": "fertig", "done": 3, "total": 3, "percent": 100,
                      "error": None, "download_url": f"/verwaltung/massnahmen/export/{export_id}/datei",
                      "message": "fertig: 3 von 3 Maßnahmenblättern"}
    download = client.get(status["download_url"])
    assert download.data.startswith(b"%PDF") and download.mimetype == "application/pdf"
    assert re.fullmatch(r'attachment; filename="klimaschutzplan-massnahmen-\d{4}-\d{2}-\d{2}\.pdf"',
                        download.headers["Content-Disposition"])
    public = app.test_client().get("/massnahmen/massnahmenplan.pdf")
    assert public.status_code == 200 and public.data == download.data
    overview = client.get("/verwaltung/massnahmen/export").get_data(as_text=True)
    assert f"/verwaltung/massnahmen/export/{export_id}/datei" in overview and "3 / 3" in overview
    assert client.get("/verwaltung/massnahmen/export/999999/fortschritt").status_code == 404


def test_progress_page_of_a_running_export_has_an_accessible_progress_bar(app, client, plan, staff):
    with app.app_context():
        export = PlanExport(fmt="pdf", state="running", done=2, total=8, heartbeat_at=utcnow())
        db.session.add(export)
        db.session.commit()
        export_id = export.id
    login_as(client, staff)
    html = client.get(f"/verwaltung/massnahmen/export/{export_id}").get_data(as_text=True)
    bar = re.search(r'<div role="progressbar"[^>]*>', html).group(0)
    assert 'aria-valuenow="25"' in bar and 'aria-valuetext="läuft: 2 von 8 Maßnahmenblättern"' in bar
    assert "js/plan_export.js" in html and "Seite neu laden" in html
    status = client.get(f"/verwaltung/massnahmen/export/{export_id}/fortschritt").get_json()
    assert (status["state"], status["done"], status["total"], status["download_url"]) == ("running", 2, 8, None)
    assert client.get(f"/verwaltung/massnahmen/export/{export_id}/datei").status_code == 302


def test_citizens_cannot_use_the_staff_export_but_everyone_gets_the_public_pdf(app, users, plan):
    with app.test_request_context():
        exports.start_pdf_export(None)
        export_id = db.session.scalar(select(func.max(PlanExport.id)))
    for role in ("citizen", "member"):
        client = login_as(app.test_client(), users[role])
        for path in (f"/verwaltung/massnahmen/export/{export_id}", f"/verwaltung/massnahmen/export/{export_id}/datei",
                     f"/verwaltung/massnahmen/export/{export_id}/fortschritt"):
            assert client.get(path).status_code == 403, (role, path)
        assert client.get("/massnahmen/massnahmenplan.pdf").data.startswith(b"%PDF")
    assert app.test_client().get("/massnahmen/massnahmenplan.pdf").data.startswith(b"%PDF")


def test_cli_export_pdf_with_progress(app, plan, tmp_path):
    target = tmp_path / "plan.pdf"
    result = app.test_cli_runner().invoke(args=["measures", "export", "--format", "pdf", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "Maßnahmenblatt 3 von 3" in result.stderr and target.read_bytes().startswith(b"%PDF")
    with app.app_context():
        assert db.session.scalar(select(func.count(PlanExport.id))) == 0  # the CLI writes only the file
