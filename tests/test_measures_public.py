"""The public measure plan: catalogue with filters, overview per field of action, the full sheet
with its origin in the participation and its monitoring charts, and "Was wurde aus den Ideen?"."""
import re
from datetime import date
from decimal import Decimal

import pytest

from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.ideas import services as idea_services
from beteiligung.ideas.models import Idea, Status
from beteiligung.measures import queries, routes
from beteiligung.measures.models import IdeaMeasure, Measure
from beteiligung.measures.services import Indicator, Milestone, link_ideas, save_sheet, savings_explanation
from beteiligung.measures.sheet import FIELDS

from .conftest import login_as

# Three measures with round figures; the sums in the tests below are computed by hand from them.
PLAN = [
    {"title": "Radverkehrsnetz lückenlos ausbauen", "sector": "mobilitaet", "measure_type": "technical",
     "priority": "high", "status": "in_progress", "progress": "40", "savings_t_co2e_per_year": "120,5",
     "savings_mwh_per_year": "400", "cost_one_off_eur": "1.000.000", "cost_per_year_eur": "50.000",
     "staff_fte": "1,5"},
    {"title": "Jobticket für alle Beschäftigten", "sector": "mobilitaet", "measure_type": "funding",
     "priority": "medium", "status": "planned", "savings_t_co2e_per_year": "30,25", "savings_mwh_per_year": "100,5",
     "cost_per_year_eur": "20000", "staff_fte": "0,5"},
    {"title": "Solardächer auf allen Schulen", "sector": "energie", "measure_type": "technical", "priority": "high",
     "status": "done", "savings_t_co2e_per_year": "200", "savings_mwh_per_year": "600",
     "cost_one_off_eur": "500000", "staff_fte": "1"},
]


@pytest.fixture
def plan(app, idea_setup):
    """The three measures of PLAN: {title: id}."""
    made = {}
    with app.test_request_context():
        for raw in PLAN:
            made[raw["title"]] = save_sheet(None, None, raw).id
        db.session.commit()
    return made


@pytest.fixture
def staff_do(app, users):
    """Run a function with the staff user inside a request context, then commit."""

    def run(function):
        with app.test_request_context():
            result = function(db.session.get(User, users["staff"].id))
            db.session.commit()
            return result

    return run


def link(staff_do, measure_id, idea_ids, reason="Passt zur Maßnahme."):
    staff_do(lambda staff: link_ideas(db.session.get(Measure, measure_id),
                                      [db.session.get(Idea, idea_id) for idea_id in idea_ids], staff, reason))


def page(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def listed_titles(html):
    return re.findall(r'<th scope="row"><a href="/massnahmen/\d+">([^<]+)</a></th>', html)


# --- the catalogue -----------------------------------------------------------------------------

def test_catalogue_lists_measures_in_plan_order_with_their_figures(client, plan):
    html = page(client, "/massnahmen/")
    assert listed_titles(html) == ["Radverkehrsnetz lückenlos ausbauen", "Jobticket für alle Beschäftigten",
                                   "Solardächer auf allen Schulen"]
    assert "3 Maßnahmen" in html
    row = html[html.index("M-4.1"):html.index("M-4.2")]
    for text in ("Mobilität", "technisch", "hoch", "in Umsetzung", "40 %", "120,5"):
        assert text in row, text
    for header in ("Nummer", "Titel", "Handlungsfeld", "Typ", "Priorität", "Status", "Fortschritt",
                   "Einsparung (t CO₂e/a)", "Ideen"):
        assert re.search(rf'<th scope="col"[^>]*>{re.escape(header)}</th>', html), header
    assert 'href="/massnahmen/handlungsfelder"' in html and 'href="/massnahmen/was-wurde-aus-den-ideen"' in html


@pytest.mark.parametrize("query, expected", [
    ("sector=mobilitaet", ["Radverkehrsnetz lückenlos ausbauen", "Jobticket für alle Beschäftigten"]),
    ("sector=Energieversorgung", ["Solardächer auf allen Schulen"]),
    ("status=done", ["Solardächer auf allen Schulen"]),
    ("priority=medium", ["Jobticket für alle Beschäftigten"]),
    ("type=funding", ["Jobticket für alle Beschäftigten"]),
    ("sector=mobilitaet&priority=high", ["Radverkehrsnetz lückenlos ausbauen"]),
    ("sector=energie&status=planned", []),
])
def test_catalogue_filters(client, plan, query, expected):
    html = page(client, "/massnahmen/?" + query)
    assert listed_titles(html) == expected
    assert f"{len(expected)} Maßnahme" in html
    if not expected:
        assert "Keine Maßnahme passt zu diesen Filtern." in html


def test_filter_form_has_labels_and_keeps_the_chosen_values(client, plan):
    html = page(client, "/massnahmen/?sector=mobilitaet&status=planned&priority=medium&type=funding")
    for name, label in (("sector", "Handlungsfeld"), ("status", "Status"), ("priority", "Priorität"),
                        ("type", "Maßnahmentyp")):
        assert f'<label for="{name}">{label}</label>' in html and f'<select id="{name}" name="{name}">' in html
    for value in ("mobilitaet", "planned", "medium", "funding"):
        assert f'<option value="{value}" selected>' in html
    assert '<form method="get" action="/massnahmen/"' in html


def test_unknown_filter_values_are_named_and_ignored(client, plan):
    html = page(client, "/massnahmen/?status=erledigt&type=%3Cscript%3E")
    assert "Unbekannter Status im Feld „status“: erledigt" in html
    assert "Unbekannter Maßnahmentyp im Feld „type“: &lt;script&gt;" in html and "<script>" not in html
    assert len(listed_titles(html)) == 3


def test_catalogue_pages_keep_the_filters(client, plan, monkeypatch):
    monkeypatch.setattr(routes, "PER_PAGE", 1)
    html = page(client, "/massnahmen/?sector=mobilitaet")
    assert listed_titles(html) == ["Radverkehrsnetz lückenlos ausbauen"]
    assert "2 Maßnahmen" in html
    links = re.findall(r'href="(/massnahmen/\?[^"]+)" rel="next"', html)
    assert len(links) == 1 and "page=2" in links[0] and "sector=mobilitaet" in links[0]
    assert listed_titles(page(client, links[0].replace("&amp;", "&"))) == ["Jobticket für alle Beschäftigten"]


def test_catalogue_counts_only_visible_linked_ideas(client, plan, make_idea, staff_do):
    ideas = [make_idea(title=f"Radidee Nummer {n}") for n in range(3)]
    link(staff_do, plan["Radverkehrsnetz lückenlos ausbauen"], ideas)
    staff_do(lambda staff: idea_services.hide(db.session.get(Idea, ideas[0]), staff, "Beleidigend"))
    html = page(client, "/massnahmen/?sector=mobilitaet&priority=high")
    assert re.search(r'<td class="number">2</td>\s*</tr>', html)


def _add_measures(app, idea_id, first, count):
    """Measures straight into the tables (fast), each with one linked idea."""
    from beteiligung.ideas.services import find_sector

    with app.app_context():
        sector = find_sector("verwaltung")
        for n in range(first, first + count):
            measure = Measure(number=f"M-3.{n}", title=f"Verwaltungsmaßnahme {n}", sector_id=sector.id,
                              savings_t_co2e_per_year=Decimal(n), idea_count=1)
            db.session.add(measure)
            db.session.flush()
            db.session.add(IdeaMeasure(idea_id=idea_id, measure_id=measure.id, reason="Test"))
        db.session.commit()


def test_catalogue_runs_the_same_number_of_queries_for_more_rows(app, client, plan, make_idea, count_queries):
    idea_id = make_idea()
    _add_measures(app, idea_id, 1, 2)
    client.get("/massnahmen/")  # warm up
    with count_queries() as few:
        assert client.get("/massnahmen/?sector=verwaltung").status_code == 200
    _add_measures(app, idea_id, 3, 20)
    with count_queries() as many:
        html = client.get("/massnahmen/?sector=verwaltung").get_data(as_text=True)
    assert len(listed_titles(html)) == 22
    assert listed_titles(html)[:3] == ["Verwaltungsmaßnahme 1", "Verwaltungsmaßnahme 2", "Verwaltungsmaßnahme 3"]
    assert listed_titles(html)[-1] == "Verwaltungsmaßnahme 22"  # M-3.10 after M-3.9
    assert many.n == few.n <= 8, many.statements


# --- the overview per field of action --------------------------------------------------------------

def test_overview_sums_per_field_of_action(app, plan):
    with app.test_request_context():
        sectors, total = queries.sector_overview()
    by_code = {figures.code: figures for figures in sectors}
    mobility, energy = by_code["mobilitaet"], by_code["energie"]
    assert (mobility.measures, mobility.quantified) == (2, 2)
    assert mobility.savings_t_co2e_per_year == Decimal("150.75")
    assert mobility.savings_mwh_per_year == Decimal("500.50")
    assert mobility.cost_one_off_eur == Decimal("1000000")
    assert mobility.cost_per_year_eur == Decimal("70000")
    assert mobility.staff_fte == Decimal("2.0")
    assert mobility.by_status == {"planned": 1, "in_progress": 1, "done": 0, "deferred": 0}
    assert (energy.measures, energy.savings_t_co2e_per_year, energy.cost_per_year_eur) == (1, Decimal(200), 0)
    assert energy.by_status["done"] == 1
    assert by_code["wohngebaeude"].measures == 0 and by_code["wohngebaeude"].savings_t_co2e_per_year == 0
    assert [figures.code for figures in sectors][:5] == ["wohngebaeude", "unternehmen", "verwaltung", "mobilitaet",
                                                         "energie"]
    assert total.measures == 3 and total.quantified == 3
    assert total.savings_t_co2e_per_year == Decimal("350.75")
    assert total.savings_mwh_per_year == Decimal("1100.50")
    assert total.cost_one_off_eur == Decimal("1500000")
    assert total.cost_per_year_eur == Decimal("70000")
    assert total.staff_fte == Decimal("3.0")
    assert total.by_status == {"planned": 1, "in_progress": 1, "done": 1, "deferred": 0}


def test_overview_page_shows_the_sums_and_a_chart_with_its_table(client, plan):
    html = page(client, "/massnahmen/handlungsfelder")
    mobility = html[html.index('href="/massnahmen/?sector=mobilitaet"'):]
    mobility = mobility[:mobility.index("</tr>")]
    for text in ("150,75", "500,5", "1.000.000 €", "70.000 €", ">2<"):
        assert text in mobility, text
    total = html[html.rindex('class="total-row"'):]
    total = total[:total.index("</tr>")]
    for text in ("350,75", "1.100,5", "1.500.000 €", "70.000 €", ">3<"):
        assert text in total, text
    assert_chart_with_table(html, "chart-einsparung")
    assert "Mobilität</text>" in html and "150,75 t CO₂e/a</text>" in html


def assert_chart_with_table(html, chart_id):
    """The chart is an accessible image and a data table stands beside it."""
    start = html.index('<div class="chart-pair">', html.index(f'id="{chart_id}"') - 200)
    pair = html[start:html.index("</table>", start)]
    assert f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"' in pair
    assert f'<title id="{chart_id}-title">' in pair and f'<desc id="{chart_id}-desc">' in pair
    assert 'viewBox="0 0 640 ' in pair and "<table>" in pair and "<caption" in pair and 'scope="row"' in pair


def test_overview_without_measures(client, idea_setup):
    html = page(client, "/massnahmen/handlungsfelder")
    assert "Maßnahmen nach Handlungsfeldern" in html and "keine Angabe" not in html


# --- one measure sheet -----------------------------------------------------------------------------

FULL_SHEET = {
    "number": "M-1.7", "title": "Sanierungsoffensive <b>Altbau</b>", "sector": "wohngebaeude",
    "measure_type": "Förderung", "priority": "hoch",
    "goal": "Mehr **Sanierung** im Bestand.", "starting_situation": "Viele Häuser sind aus den 60er-Jahren.",
    "description": "<script>alert('x')</script> Zuschuss für Dämmung.", "target_group": "Eigentümerinnen",
    "lead_unit": "Bauamt", "partners": "Stadtwerke und Verbraucherzentrale", "start_year": "2025",
    "end_year": "2030", "ramp_up_years": "3", "cost_one_off_eur": "1.250.000,50", "cost_per_year_eur": "12.000",
    "staff_fte": "2,5", "funding": "KfW-Programm 432", "savings_method": "direct",
    "savings_mwh_per_year": "4.000", "savings_t_co2e_per_year": "1.234,56",
    "savings_note": "Annahme: 50 Häuser pro Jahr.", "co_benefits": "Behaglichkeit",
    "regional_value_added": "Aufträge für das Handwerk", "obstacles": "Fachkräftemangel",
    "status": "in_progress", "progress": "35", "adopted_on": "12.03.2025",
}


@pytest.fixture
def full_sheet(app, idea_setup):
    with app.test_request_context():
        measure = save_sheet(None, None, FULL_SHEET, milestones=[
            Milestone("Förderrichtlinie beschlossen", due_on=date(2025, 3, 1), done_on=date(2025, 3, 12)),
            Milestone("Erste Förderrunde", due_on=date(2026, 1, 31)),
        ], indicators=[
            Indicator("Sanierte Wohnungen", "Anzahl", baseline_value=Decimal(0), baseline_year=2024,
                      target_value=Decimal(500), target_year=2030,
                      values=[(2025, Decimal(60), "Bericht 2025"), (2026, Decimal(140), "")]),
            Indicator("Beratungen", "", target_value=Decimal(200)),
        ])
        db.session.commit()
        return measure.id


def test_detail_shows_every_filled_field_formatted(client, full_sheet):
    html = page(client, f"/massnahmen/{full_sheet}")
    for field in FIELDS:
        if field.name != "title":
            assert f"<dt>{field.label}</dt>" in html or f"<h3>{field.label}</h3>" in html, field.label
    for section in ("Überblick", "Inhalt", "Zuständigkeit und Zeitplan", "Kosten und Finanzierung", "Wirkung",
                    "Stand der Umsetzung", "Monitoring", "Aus der Beteiligung"):
        assert f"{section}</h2>" in html, section
    for text in ("M-1.7", "Wohngebäude und Quartiere", "Förderung", "hoch", "Eigentümerinnen", "Bauamt",
                 "2025", "2030", "mittelfristig (3–7 Jahre)", "1.250.000,50 €", "12.000 €", "<dd>2,5</dd>",
                 "KfW-Programm 432", "direkt angegeben", "4.000", "1.234,56", "Annahme: 50 Häuser pro Jahr.",
                 "Behaglichkeit", "Aufträge für das Handwerk", "Fachkräftemangel", "in Umsetzung",
                 "35 % umgesetzt", '<progress max="100" value="35"', "12.03.2025"):
        assert text in html, text
    assert "Mehr <strong>Sanierung</strong> im Bestand." in html  # Markdown


def test_detail_escapes_user_text(client, full_sheet):
    html = page(client, f"/massnahmen/{full_sheet}")
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert "<b>Altbau</b>" not in html and "Sanierungsoffensive &lt;b&gt;Altbau&lt;/b&gt;" in html


def test_detail_leaves_out_empty_fields(client, app, idea_setup):
    with app.test_request_context():
        measure_id = save_sheet(None, None, {"title": "Nur ein Titel", "sector": "energie"}).id
        db.session.commit()
    html = page(client, f"/massnahmen/{measure_id}")
    for label in ("Ziel", "Beschreibung", "Federführung", "Einmalige Kosten (€)", "Beschlossen am",
                  "Endenergieeinsparung (MWh/a)"):
        assert f"<dt>{label}</dt>" not in html and f"<h3>{label}</h3>" not in html
    assert "Kosten und Finanzierung</h2>" not in html and "Monitoring</h2>" not in html
    assert "Die Einsparung ist noch nicht abgeschätzt." in html
    assert "0 % umgesetzt" in html


def test_detail_milestones_have_their_state_in_words(client, full_sheet):
    html = page(client, f"/massnahmen/{full_sheet}")
    done = html[html.index("Förderrichtlinie beschlossen"):]
    done = done[:done.index("</tr>")]
    assert "01.03.2025" in done and "erledigt am" in done and "12.03.2025" in done
    open_ = html[html.index("Erste Förderrunde"):]
    assert "31.01.2026" in open_[:open_.index("</tr>")] and "offen" in open_[:open_.index("</tr>")]


def test_detail_monitoring_has_a_line_chart_and_a_table(client, full_sheet, app):
    with app.app_context():
        indicator_id = db.session.get(Measure, full_sheet).indicators[0].id
    html = page(client, f"/massnahmen/{full_sheet}")
    chart_id = f"indikator-{indicator_id}"
    assert_chart_with_table(html, chart_id)
    chart = html[html.index(f'<div class="chart" id="{chart_id}">'):]
    chart = chart[:chart.index("</div>")]
    assert "<polyline" in chart and 'stroke-dasharray="8 5"' in chart  # actual line and dashed target line
    assert "<circle" in chart and "<rect" in chart and "<path" in chart  # markers: values, baseline, target
    assert ">2030</text>" in chart and ">2024</text>" in chart
    assert "Ist-Wert 2025: 60" in chart and "Zielwert 2030: 500" in chart
    table = html[html.index(f'<caption id="{chart_id}-caption">'):]
    table = table[:table.index("</table>")]
    assert "Werte: Sanierte Wohnungen" in table and "Bericht 2025" in table
    years = re.findall(r'<th scope="row">(\d{4})</th>', table)
    assert years == ["2024", "2025", "2026", "2030"]
    # An indicator with only a target and no values gets its table too.
    assert "Werte: Beratungen" in html


def test_detail_with_carrier_savings_shows_the_carriers_and_the_explanation(client, app, idea_setup):
    with app.test_request_context():
        measure = save_sheet(None, None, {"title": "Wärmepumpen im Quartier", "sector": "wohngebaeude",
                                          "savings_method": "carriers"},
                             energy=[("erdgas", Decimal("800")), ("strom", Decimal("-200"))])
        db.session.commit()
        measure_id, sentence = measure.id, savings_explanation(measure)
    html = page(client, f"/massnahmen/{measure_id}")
    assert sentence in html
    table = html[html.index("Eingesparte Endenergie je Energieträger"):]
    table = table[:table.index("</table>")]
    assert "Erdgas" in table and "800" in table and "Strom" in table and "-200" in table and "600" in table


def test_detail_shows_the_ideas_and_the_workshops_they_came_from(client, plan, make_idea, staff_do):
    workshop = [make_idea(title=f"Werkstattidee {n}", source="workshop", event_name="Werkstatt Mobilität",
                          facilitator="Anna Beispiel", dot_votes=dots) for n, dots in enumerate((5, 3))]
    event = make_idea(title="Idee vom Bürgerforum", source="event", event_name="Bürgerforum Klima", dot_votes=2)
    online = make_idea(title="Online eingereichte Idee")
    measure_id = plan["Radverkehrsnetz lückenlos ausbauen"]
    link(staff_do, measure_id, workshop + [event, online], reason="Mehr sichere Radwege.")
    html = page(client, f"/massnahmen/{measure_id}")
    assert "Themen-Werkstatt „Werkstatt Mobilität“ (Moderation Anna Beispiel): 2 Ideen, 8 Klebepunkte" in html
    assert "Bürgerveranstaltung „Bürgerforum Klima“: 1 Idee, 2 Klebepunkte" in html
    assert "4 Ideen sind in diese Maßnahme eingeflossen." in html
    assert "Online eingereichte Idee" in html and "Mehr sichere Radwege." in html


def test_meetings_contribute_origins_through_the_provider(client, plan, monkeypatch):
    measure_id = plan["Jobticket für alle Beschäftigten"]
    assert "Sitzungen und Beschlüsse" not in page(client, f"/massnahmen/{measure_id}")
    monkeypatch.setattr(queries, "_origin_providers", [])
    seen = []

    @queries.origin_provider
    def meetings(measure):
        seen.append(measure.id)
        return [("Stadtrat", "Beschluss zum Jobticket", None, "javascript:alert(1)", ""),
                queries.Origin("Arbeitskreis", "3. Sitzung, TOP 4", date(2025, 3, 12), "/termine/3",
                               "Empfehlung <b>einstimmig</b>")]

    html = page(client, f"/massnahmen/{measure_id}")
    assert seen == [measure_id]
    section = html[html.index("Sitzungen und Beschlüsse"):]
    assert section.index("3. Sitzung, TOP 4") < section.index("Beschluss zum Jobticket")  # dated first
    assert '<a href="/termine/3">3. Sitzung, TOP 4</a>' in section and "12.03.2025" in section
    assert "javascript:" not in html and "Empfehlung &lt;b&gt;einstimmig&lt;/b&gt;" in section


def test_detail_of_a_missing_measure_is_404(client, idea_setup):
    page(client, "/massnahmen/999999", status=404)


def test_edit_link_only_for_staff_when_the_staff_page_exists(app, client, plan, users):
    measure_id = plan["Solardächer auf allen Schulen"]
    assert "Maßnahme bearbeiten" not in page(client, f"/massnahmen/{measure_id}")
    assert "Maßnahme bearbeiten" not in page(login_as(app.test_client(), users["citizen"]),
                                             f"/massnahmen/{measure_id}")
    staff_page = page(login_as(app.test_client(), users["staff"]), f"/massnahmen/{measure_id}")
    assert ("Maßnahme bearbeiten" in staff_page) == ("measure_staff.edit" in app.view_functions)


def test_detail_query_count_does_not_grow_with_indicators_and_ideas(app, client, full_sheet, make_idea, staff_do,
                                                                     count_queries):
    client.get(f"/massnahmen/{full_sheet}")
    with count_queries() as few:
        client.get(f"/massnahmen/{full_sheet}")
    ideas = [make_idea(title=f"Sanierungsidee {n}", source="workshop", event_name=f"Werkstatt {n}")
             for n in range(4)]
    link(staff_do, full_sheet, ideas)
    with app.test_request_context():
        measure = db.session.get(Measure, full_sheet)
        save_sheet(measure, None, {}, partial=True, indicators=[
            Indicator(f"Indikator {n}", "t", target_value=Decimal(n + 1), target_year=2030,
                      values=[(2025, Decimal(n), "")]) for n in range(6)])
        db.session.commit()
    with count_queries() as many:
        html = client.get(f"/massnahmen/{full_sheet}").get_data(as_text=True)
    assert "Indikator 5" in html and "Werkstatt 3" in html
    assert many.n == few.n, many.statements


# --- "Was wurde aus den Ideen?" -----------------------------------------------------------------------

@pytest.fixture
def participation(app, plan, make_idea, staff_do):
    """Five visible ideas (two in measures) and a hidden one linked to the Jobticket."""
    made = {
        "rad": make_idea(title="Radweg am Fluss", sector="mobilitaet"),
        "tempo": make_idea(title="Tempo 30 in Wohngebieten", sector="mobilitaet"),
        "solar": make_idea(title="Solar auf Schulen", sector="energie"),
        "baum": make_idea(title="Bäume pflanzen", sector="uebergreifend"),
        "offen": make_idea(title="Weiß nicht wohin", sector=None),
        "versteckt": make_idea(title="Versteckte Idee", sector="mobilitaet"),
    }
    link(staff_do, plan["Radverkehrsnetz lückenlos ausbauen"], [made["rad"]])
    link(staff_do, plan["Solardächer auf allen Schulen"], [made["solar"]])
    link(staff_do, plan["Jobticket für alle Beschäftigten"], [made["versteckt"]])
    staff_do(lambda staff: idea_services.change_status(db.session.get(Idea, made["baum"]), staff, Status.IN_REVIEW))
    staff_do(lambda staff: idea_services.hide(db.session.get(Idea, made["versteckt"]), staff, "Beleidigend"))
    return made


def test_report_counts_ideas_by_field_and_status(app, participation):
    with app.test_request_context():
        report = queries.participation_report()
    rows = {row.code: row for row in report.rows}
    assert [row.code for row in report.rows] == ["wohngebaeude", "unternehmen", "verwaltung", "mobilitaet",
                                                 "energie", "uebergreifend", None]
    mobility = rows["mobilitaet"]
    assert (mobility.ideas, mobility.in_measures) == (2, 1)  # the hidden idea does not count
    assert mobility.by_status["in_measure"] == 1 and mobility.by_status["submitted"] == 1
    assert mobility.share_in_measures == 50
    assert (rows["energie"].ideas, rows["energie"].in_measures, rows["energie"].share_in_measures) == (1, 1, 100)
    assert rows["uebergreifend"].by_status["in_review"] == 1 and rows["uebergreifend"].share_in_measures == 0
    assert rows[None].name == "noch nicht zugeordnet" and rows[None].by_status["submitted"] == 1
    assert rows["wohngebaeude"].ideas == 0 and rows["wohngebaeude"].share_in_measures is None
    total = report.total
    assert (total.ideas, total.in_measures, total.share_in_measures) == (5, 2, 40)
    assert {key: value for key, value in total.by_status.items() if value} == {
        "submitted": 2, "in_review": 1, "in_measure": 2}
    # Measures from the participation: the Jobticket only has a hidden idea.
    assert report.participation_measures.measures == 2 and report.all_measures.measures == 3
    assert report.participation_measures.savings_t_co2e_per_year == Decimal("320.5")
    assert report.participation_measures.savings_mwh_per_year == Decimal("1000")
    assert report.all_measures.savings_t_co2e_per_year == Decimal("350.75")
    assert report.all_measures.savings_mwh_per_year == Decimal("1100.5")


def test_report_page_shows_shares_chart_and_cross_table(client, participation):
    html = page(client, "/massnahmen/was-wurde-aus-den-ideen")
    assert "Was wurde aus den Ideen?</h1>" in html
    assert "40 %" in html and "320,5" in html and "350,75" in html and "1.100,5" in html
    assert "von 3 Maßnahmen gehen auf Ideen zurück" in html
    assert_chart_with_table(html, "chart-ideen")
    chart = html[html.index('<div class="chart" id="chart-ideen">'):]
    chart = chart[:chart.index("</ul>")]
    assert 'fill="url(#chart-ideen-p2)"' in chart and "<pattern" in chart  # patterns, not colour alone
    assert "Mobilität – in Maßnahme aufgenommen: 1" in chart
    assert 'class="chart-legend"' in chart and "außerhalb kommunaler Zuständigkeit" in chart
    cross = html[html.index('<caption id="kreuztabelle-caption">'):]
    cross = cross[:cross.index("</table>")]
    mobility = cross[cross.index("<th scope=\"row\">Mobilität</th>"):]
    cells = re.findall(r'<td class="number">(\d+)</td>', mobility[:mobility.index("</tr>")])
    assert cells == ["1", "0", "1", "0", "0", "0", "0", "2"]  # order of STATUS_LABELS, then the sum
    total = cross[cross.index('class="total-row"'):]
    assert re.findall(r'<td class="number">(\d+)</td>', total) == ["2", "1", "2", "0", "0", "0", "0", "5"]
    assert "noch nicht zugeordnet" in cross
    assert 'href="/massnahmen/was-wurde-aus-den-ideen.csv"' in html


def test_report_csv_has_the_cross_table(client, participation):
    response = client.get("/massnahmen/was-wurde-aus-den-ideen.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffHandlungsfeld;eingereicht;in Prüfung;in Maßnahme aufgenommen;")
    lines = text.lstrip("\ufeff").splitlines()
    assert "Mobilität;1;0;1;0;0;0;0;2;1;50,0" in lines
    assert "noch nicht zugeordnet;1;0;0;0;0;0;0;1;0;0,0" in lines
    assert lines[-1] == "Summe;2;1;2;0;0;0;0;5;2;40,0"
    assert "Wohngebäude und Quartiere;0;0;0;0;0;0;0;0;0;" in lines


def test_report_query_count_does_not_grow_with_ideas(app, client, participation, make_idea, count_queries):
    client.get("/massnahmen/was-wurde-aus-den-ideen")
    with count_queries() as few:
        client.get("/massnahmen/was-wurde-aus-den-ideen")
    for n in range(8):
        make_idea(title=f"Noch eine Idee {n}", sector="unternehmen" if n % 2 else "verwaltung")
    with count_queries() as many:
        html = client.get("/massnahmen/was-wurde-aus-den-ideen").get_data(as_text=True)
    assert ">13<" in html
    assert many.n == few.n <= 8, many.statements
