"""The staff pages for measure sheets: the form with every field and its rows, German numbers,
errors that change nothing, monitoring values, linking ideas, deleting, and who may open them."""
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from beteiligung.audit.models import AuditEntry
from beteiligung.extensions import db
from beteiligung.ideas.models import Idea
from beteiligung.measures.models import IdeaMeasure, IndicatorValue, Measure
from beteiligung.measures.sheet import FIELD_NAMES
from beteiligung.notifications.models import Notification

from .conftest import ROLES, login_as, post_form

BASE = "/verwaltung/massnahmen"
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def sheet(**changes):
    """The form data of a complete sheet; keyword arguments replace fields or rows (None removes one)."""
    data = dict.fromkeys(FIELD_NAMES, "")
    data.update({
        "title": "Wärmepumpen für städtische Schulen",
        "sector": "verwaltung",
        "measure_type": "technical",
        "priority": "high",
        "goal": "Die Schulen heizen bis 2030 ohne Heizöl.",
        "starting_situation": "Sieben Schulen heizen mit Öl.",
        "description": "Erste Zeile.\nZweite Zeile.",
        "target_group": "Schulen und Schulträger",
        "lead_unit": "Kommunale Immobilien",
        "partners": "Stadtwerke, Schulamt",
        "start_year": "2025",
        "end_year": "2030",
        "ramp_up_years": "3",
        "cost_one_off_eur": "1.250.000,50",
        "cost_per_year_eur": "12.000",
        "staff_fte": "1,5",
        "funding": "Bundesförderung effiziente Gebäude",
        "savings_method": "carriers",
        "savings_note": "Verbrauch der Jahre 2021 bis 2023.",
        "co_benefits": "Bessere Luft in den Klassenräumen.",
        "regional_value_added": "Aufträge an das Handwerk.",
        "obstacles": "Lieferzeiten.",
        "status": "in_progress",
        "progress": "20",
        "adopted_on": "15.03.2025",
        "milestones-0-title": "Planung abgeschlossen", "milestones-0-due_on": "31.12.2025",
        "milestones-0-done_on": "20.12.2025",
        "milestones-1-title": "Einbau in allen Schulen", "milestones-1-due_on": "2027-06-30",
        "milestones-1-done_on": "",
        "milestones-2-title": "", "milestones-2-due_on": "", "milestones-2-done_on": "",
        "energy-0-carrier": "heizoel", "energy-0-mwh_per_year": "1.200,5",
        "energy-1-carrier": "strom", "energy-1-mwh_per_year": "-300",
        "energy-2-carrier": "", "energy-2-mwh_per_year": "",
        "indicators-0-indicator_id": "", "indicators-0-name": "Heizölverbrauch der Schulen",
        "indicators-0-unit": "MWh/a", "indicators-0-baseline_value": "1.200,5", "indicators-0-baseline_year": "2023",
        "indicators-0-target_value": "0", "indicators-0-target_year": "2030",
        "indicators-1-indicator_id": "", "indicators-1-name": "", "indicators-1-unit": "",
        "indicators-1-baseline_value": "", "indicators-1-baseline_year": "", "indicators-1-target_value": "",
        "indicators-1-target_year": "",
    })
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def staff(client, users, idea_setup):
    login_as(client, users["staff"])
    return users["staff"]


def _text(response):
    return response.get_data(as_text=True)


def _measures(app):
    with app.app_context():
        return db.session.scalars(select(Measure).order_by(Measure.id)).all()


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _state(app, measure_id):
    """Everything about a stored sheet, to compare before and after a refused change."""
    from beteiligung.measures.services import _snapshot

    with app.app_context():
        measure = db.session.get(Measure, measure_id)
        return _snapshot(measure), measure.updated_at, _count(app, AuditEntry)


def _create(client, **changes):
    response = post_form(client, f"{BASE}/neu", sheet(**changes))
    assert response.status_code == 302, _errors(response)
    return response


def _errors(response):
    text = _text(response)
    start = text.find('class="error-summary"')
    return text[start:start + 2000] if start >= 0 else text[:500]


class _FormValues(HTMLParser):
    """The values a browser would submit with the POST form whose action ends with `action`."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.values, self._form, self._done, self._select, self._textarea = {}, False, False, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("action") or "").endswith(self.action) and not self._done:
            self._form = True
        if not self._form:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("checkbox", "submit"):
            self.values[name] = attrs.get("value", "")
        elif tag == "input" and name and "checked" in attrs:
            self.values[name] = attrs.get("value", "y")
        elif tag == "select":
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea and self.values[self._textarea].startswith("\n"):
                self.values[self._textarea] = self.values[self._textarea][1:]  # HTML drops the first newline
            self._textarea = None
        elif tag == "form" and self._form:
            self._form, self._done = False, True


def form_values(html, action="/bearbeiten"):
    parser = _FormValues(action)
    parser.feed(html)
    return parser.values


# --- creating and editing ------------------------------------------------------------------------

def test_new_form_has_every_sheet_field_in_its_section_and_empty_rows(app, client, staff):
    from beteiligung.measures.sheet import SECTIONS

    page = _text(client.get(f"{BASE}/neu"))
    for name in FIELD_NAMES:
        assert f'name="{name}"' in page, name
    positions = [page.index(f"<legend><h2>{label}</h2></legend>") for label in SECTIONS.values()]
    assert positions == sorted(positions)
    for row in ("milestones-2-title", "energy-2-carrier", "energy-2-mwh_per_year", "indicators-2-name"):
        assert f'name="{row}"' in page, row
    assert 'name="milestones-3-title"' not in page
    assert "Die Einsparung ist noch nicht abgeschätzt." in page
    assert '<option selected value="planned">' in page


def test_full_sheet_through_the_form_stores_every_field_and_row(app, client, staff):
    response = _create(client)
    measure = _measures(app)[0]
    assert response.headers["Location"].endswith(f"/massnahmen/{measure.id}")
    assert "Maßnahme M-3.1 „Wärmepumpen für städtische Schulen“ angelegt." in _text(client.get(
        response.headers["Location"]))
    with app.app_context():
        measure = db.session.get(Measure, measure.id)
        assert measure.number == "M-3.1" and measure.sector.code == "verwaltung"
        assert (measure.measure_type, measure.priority, measure.status) == ("technical", "high", "in_progress")
        assert measure.description == "Erste Zeile.\nZweite Zeile."
        assert (measure.target_group, measure.lead_unit, measure.partners) == (
            "Schulen und Schulträger", "Kommunale Immobilien", "Stadtwerke, Schulamt")
        assert (measure.start_year, measure.end_year, measure.duration, measure.ramp_up_years) == (
            2025, 2030, "medium", 3)
        assert measure.cost_one_off_eur == Decimal("1250000.50")
        assert measure.cost_per_year_eur == Decimal("12000")
        assert measure.staff_fte == Decimal("1.5")
        assert measure.progress == 20 and measure.adopted_on == date(2025, 3, 15)
        for name in ("goal", "starting_situation", "funding", "savings_note", "co_benefits",
                     "regional_value_added", "obstacles"):
            assert getattr(measure, name) == sheet()[name]
        assert [(m.title, m.due_on, m.done_on) for m in measure.milestones] == [
            ("Planung abgeschlossen", date(2025, 12, 31), date(2025, 12, 20)),
            ("Einbau in allen Schulen", date(2027, 6, 30), None)]
        assert [(e.carrier, e.mwh_per_year) for e in measure.energy_savings] == [
            ("heizoel", Decimal("1200.50")), ("strom", Decimal("-300"))]
        assert measure.savings_method == "carriers"
        assert measure.savings_mwh_per_year == Decimal("900.50")  # heating oil saved minus heat-pump power
        [indicator] = measure.indicators
        assert (indicator.name, indicator.unit, indicator.baseline_value, indicator.baseline_year,
                indicator.target_value, indicator.target_year) == (
            "Heizölverbrauch der Schulen", "MWh/a", Decimal("1200.5"), 2023, Decimal("0"), 2030)
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "measure")) \
            == "measure.created"


def test_edit_page_shows_german_numbers_that_save_back_unchanged(app, client, staff):
    _create(client, **{"indicators-0-baseline_value": "2,125", "indicators-0-target_value": "12.345,125",
                       "staff_fte": "0,5"})
    measure = _measures(app)[0]
    before = _state(app, measure.id)[0]
    page = _text(client.get(f"{BASE}/{measure.id}/bearbeiten"))
    assert 'value="1.250.000,5"' in page and 'value="0,5"' in page and 'value="12.345,125"' in page
    assert 'value="2,125"' in page  # a single comma is the decimal comma
    assert "Die Einsparung wird" in page or "Endenergie je Energieträger" in page  # the savings explanation
    values = form_values(page)
    assert values["title"] == "Wärmepumpen für städtische Schulen"
    assert values["indicators-3-name"] == ""  # empty rows to add more without JavaScript
    response = client.post(f"{BASE}/{measure.id}/bearbeiten", data=values)
    assert response.status_code == 302, _errors(response)
    after = _state(app, measure.id)[0]
    after.pop("indicators"), before.pop("indicators")  # new rows, same content: compared below
    assert after == before
    with app.app_context():
        indicator = db.session.get(Measure, measure.id).indicators[0]
        assert (indicator.baseline_value, indicator.target_value) == (Decimal("2.125"), Decimal("12345.125"))


def test_changed_energy_rows_are_saved_and_audited_with_their_old_values(app, client, staff):
    _create(client)
    measure_id = _measures(app)[0].id
    response = post_form(client, f"{BASE}/{measure_id}/bearbeiten", sheet(**{
        "energy-0-mwh_per_year": "1.000", "energy-1-carrier": "", "energy-1-mwh_per_year": ""}))
    assert response.status_code == 302, _errors(response)
    with app.app_context():
        measure = db.session.get(Measure, measure_id)
        assert [(e.carrier, e.mwh_per_year) for e in measure.energy_savings] == [("heizoel", Decimal("1000"))]
        assert measure.savings_mwh_per_year == Decimal("1000")
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "measure.updated"))
        assert [carrier for carrier, _mwh in entry.old_values["energy"]] == ["heizoel", "strom"]
        assert [Decimal(mwh) for _carrier, mwh in entry.old_values["energy"]] == [Decimal("1200.5"), Decimal("-300")]
        assert [carrier for carrier, _mwh in entry.new_values["energy"]] == ["heizoel"]


def test_duration_comes_from_the_years(app, client, staff):
    _create(client, start_year="2025", end_year="2026", duration="long")
    assert _measures(app)[0].duration == "short"


def test_double_submit_of_a_new_sheet_creates_one_measure(app, client, staff):
    _create(client)
    response = post_form(client, f"{BASE}/neu", sheet())
    assert response.status_code == 200
    page = _text(response)
    assert "Eine Maßnahme mit diesem Titel gibt es bereits: M-3.1." in page
    assert "Falls Sie das Formular zweimal abgeschickt haben" in page
    assert f'href="{BASE}/{_measures(app)[0].id}/bearbeiten"' in page
    assert len(_measures(app)) == 1


REFUSED = [
    ({"title": "  "}, "„Titel“ fehlt.", 'href="#title"'),
    ({"title": "W" * 201}, "„Titel“ darf höchstens 200 Zeichen lang sein (hier 201).", 'href="#title"'),
    ({"start_year": "2030", "end_year": "2025"}, "Das Ende (2025) liegt vor dem Beginn (2030).", 'href="#end_year"'),
    ({"cost_one_off_eur": "zwölf Euro"}, "„Einmalige Kosten (€)“ muss eine Zahl sein, nicht „zwölf“.",
     'href="#cost_one_off_eur"'),
    ({"progress": "120"}, "„Fortschritt (%)“ muss zwischen 0 und 100 liegen.", 'href="#progress"'),
    ({"energy-1-carrier": "uran"}, "Den Energieträger „uran“ gibt es nicht.", 'href="#energy-gruppe"'),
    ({"energy-1-carrier": "heizoel"}, "Der Energieträger „heizoel“ steht doppelt.", 'href="#energy-gruppe"'),
    ({"energy-0-mwh_per_year": "viel"}, "Energieträger, Zeile 1: „MWh/a“ muss eine Zahl sein",
     'href="#energy-gruppe"'),
    ({"milestones-1-due_on": "30.02.2027"}, "Meilenstein 2: „geplant bis“ muss ein Datum sein (TT.MM.JJJJ)",
     'href="#milestones-gruppe"'),
    ({"milestones-0-title": ""}, "Meilenstein 1 hat keinen Titel.", 'href="#milestones-gruppe"'),
    ({"indicators-0-target_year": "2200"}, "Indikator 1: „Zieljahr“ muss ein Jahr zwischen 1990 und 2100 sein.",
     'href="#indicators-gruppe"'),
]


@pytest.mark.parametrize("changes, message, link", REFUSED, ids=[r[1][:40] for r in REFUSED])
def test_wrong_input_is_explained_and_changes_nothing(app, client, staff, changes, message, link):
    _create(client, title="Die Maßnahme vorher")
    measure_id = _measures(app)[0].id
    before = _state(app, measure_id)

    response = post_form(client, f"{BASE}/{measure_id}/bearbeiten", sheet(**changes))
    assert response.status_code == 200
    page = _text(response)
    assert message in page, _errors(response)
    assert 'class="error-summary" role="alert" tabindex="-1" data-focus-on-load' in page
    assert link in page
    assert "Es wurde nichts gespeichert." in page
    assert _state(app, measure_id) == before

    response = post_form(client, f"{BASE}/neu", sheet(**changes, **({} if "title" in changes else {"title": "Neu"})))
    assert response.status_code == 200 and message in _text(response)
    assert len(_measures(app)) == 1


def test_several_errors_are_listed_together_in_page_order(app, client, staff):
    response = post_form(client, f"{BASE}/neu", sheet(**{"title": "", "start_year": "1800",
                                                         "energy-0-carrier": "uran"}))
    page = _text(response)
    assert "Bitte korrigieren Sie 3 Angaben." in page
    assert page.index('href="#title"') < page.index('href="#start_year"') < page.index('href="#energy-gruppe"')
    # The errors also stand at their fields, tied to them for screen readers.
    assert 'aria-describedby="title-fehler" aria-invalid="true"' in page or 'aria-invalid="true"' in page
    assert _measures(app) == []


def test_html_in_texts_is_stored_as_text_and_escaped(app, client, staff):
    response = _create(client, title=f"{XSS} Schule", description=f"Beschreibung {XSS}")
    measure = _measures(app)[0]
    assert measure.title == f"{XSS} Schule" and measure.description == f"Beschreibung {XSS}"
    for url in (response.headers["Location"], f"{BASE}/{measure.id}/bearbeiten", f"{BASE}/"):
        page = _text(client.get(url))
        assert XSS not in page and XSS_ESCAPED in page, url


def test_edit_keeps_the_linked_ideas(app, client, staff, make_idea):
    _create(client)
    measure_id = _measures(app)[0].id
    idea_id = make_idea()
    _link(app, measure_id, [idea_id], staff)
    response = post_form(client, f"{BASE}/{measure_id}/bearbeiten", sheet(title="Neuer Titel"))
    assert response.status_code == 302
    with app.app_context():
        measure = db.session.get(Measure, measure_id)
        assert measure.title == "Neuer Titel" and measure.idea_count == 1
        assert db.session.scalar(select(IdeaMeasure.idea_id).where(IdeaMeasure.measure_id == measure_id)) == idea_id


def test_edit_keeps_monitoring_values_and_refuses_to_drop_an_indicator_that_has_some(app, client, staff):
    _create(client)
    measure_id = _measures(app)[0].id
    indicator_id = _indicator_id(app, measure_id)
    assert post_form(client, f"{BASE}/{measure_id}/monitoring", _values(indicator_id, [("2024", "1.100")]))\
        .status_code == 302

    page = _text(client.get(f"{BASE}/{measure_id}/bearbeiten"))
    values = form_values(page)
    values["indicators-0-name"] = "Heizöl in MWh"
    assert client.post(f"{BASE}/{measure_id}/bearbeiten", data=values).status_code == 302
    with app.app_context():
        [indicator] = db.session.get(Measure, measure_id).indicators
        assert indicator.name == "Heizöl in MWh"
        assert [(v.year, v.value) for v in indicator.values] == [(2024, Decimal("1100"))]

    values = form_values(_text(client.get(f"{BASE}/{measure_id}/bearbeiten")))
    for name in ("name", "unit", "baseline_value", "baseline_year", "target_value", "target_year"):
        values[f"indicators-0-{name}"] = ""
    response = client.post(f"{BASE}/{measure_id}/bearbeiten", data=values)
    assert response.status_code == 200
    assert "hat Ist-Werte aus dem Monitoring (2024)" in _text(response)
    assert _count(app, IndicatorValue) == 1


# --- monitoring ----------------------------------------------------------------------------------

def _indicator_id(app, measure_id):
    with app.app_context():
        return db.session.get(Measure, measure_id).indicators[0].id


def _values(indicator_id, rows, deleted=()):
    data = {"indicator": str(indicator_id)}
    for n, (year, value) in enumerate(rows):
        data[f"indikator-{indicator_id}-rows-{n}-year"] = year
        data[f"indikator-{indicator_id}-rows-{n}-value"] = value
        data[f"indikator-{indicator_id}-rows-{n}-note"] = "Statistik" if year else ""
        if n in deleted:
            data[f"indikator-{indicator_id}-rows-{n}-delete"] = "y"
    return data


def _stored_values(app):
    with app.app_context():
        return [(v.year, v.value, v.note) for v in db.session.scalars(select(IndicatorValue)
                                                                       .order_by(IndicatorValue.year))]


def test_monitoring_values_are_added_changed_and_deleted_with_audit(app, client, staff):
    _create(client)
    measure_id = _measures(app)[0].id
    indicator_id = _indicator_id(app, measure_id)
    url = f"{BASE}/{measure_id}/monitoring"
    assert "Heizölverbrauch der Schulen" in _text(client.get(url))

    response = post_form(client, url, _values(indicator_id, [("2023", "1.250,5"), ("2024", "1100.25"), ("", "")]))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#indikator-{indicator_id}")
    assert _stored_values(app) == [(2023, Decimal("1250.5"), "Statistik"), (2024, Decimal("1100.25"), "Statistik")]

    # The page shows the stored values to change; one changes, one goes, one is new.
    page = _text(client.get(url))
    assert 'value="1.250,5"' in page
    response = post_form(client, url, _values(indicator_id, [("2023", "1.240"), ("2024", "1100.25"), ("2025", "900")],
                                              deleted={1}))
    assert response.status_code == 302
    assert _stored_values(app) == [(2023, Decimal("1240"), "Statistik"), (2025, Decimal("900"), "Statistik")]
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "measure.monitoring")
                                     .order_by(AuditEntry.id)).all()
        assert len(entries) == 2
        assert entries[-1].actor_id == staff.id and entries[-1].object_id == str(measure_id)
        assert entries[-1].new_values["values"] == [[2023, "1240.000", "Statistik"], [2025, "900.000", "Statistik"]]


@pytest.mark.parametrize("rows, message", [
    ([("2022", "8")], "Zeile 2: Für 2022 ist schon ein Wert eingetragen; je Jahr gibt es einen Ist-Wert."),
    ([("1989", "1")], "Zeile 2: „Jahr“ muss ein Jahr zwischen 1990 und 2100 sein."),
    ([("2023", "etwa 5")], "Zeile 2: „Wert“ muss eine Zahl sein, nicht „etwa 5“."),
    ([("2023", "")], "Zeile 2: Bitte geben Sie Jahr und Wert an"),
])
def test_wrong_monitoring_values_are_refused_and_change_nothing(app, client, staff, rows, message):
    _create(client)
    measure_id = _measures(app)[0].id
    indicator_id = _indicator_id(app, measure_id)
    url = f"{BASE}/{measure_id}/monitoring"
    post_form(client, url, _values(indicator_id, [("2022", "7")]))
    audit = _count(app, AuditEntry)

    response = post_form(client, url, _values(indicator_id, [("2022", "7")] + rows))
    assert response.status_code == 200
    page = _text(response)
    assert message in page and 'role="alert"' in page and 'aria-invalid="true"' in page
    assert _stored_values(app) == [(2022, Decimal("7"), "Statistik")]
    assert _count(app, AuditEntry) == audit


def test_monitoring_for_an_indicator_of_another_sheet_is_refused(app, client, staff):
    _create(client)
    _create(client, title="Zweite Maßnahme")
    first, second = (m.id for m in _measures(app))
    response = post_form(client, f"{BASE}/{first}/monitoring", _values(_indicator_id(app, second), [("2023", "1")]))
    assert response.status_code == 302
    assert "Diesen Indikator gibt es nicht mehr" in _text(client.get(response.headers["Location"]))
    assert _stored_values(app) == []


# --- linking ideas -------------------------------------------------------------------------------

def _link(app, measure_id, idea_ids, actor):
    from beteiligung.auth.models import User
    from beteiligung.measures import services

    with app.test_request_context():
        services.link_ideas(db.session.get(Measure, measure_id), [db.session.get(Idea, i) for i in idea_ids],
                            db.session.get(User, actor.id), "Gehört dazu.")
        db.session.commit()


def test_search_and_link_ideas_notifies_the_authors(app, client, staff, make_user, make_idea, outbox):
    _create(client)
    measure_id = _measures(app)[0].id
    author = make_user(name="Ida Autorin")
    idea_id = make_idea(title="Wärmepumpe für die Schule in Lobeda", author=author)
    other = make_idea(title="Radweg an der Saale")
    url = f"{BASE}/{measure_id}/ideen"

    page = _text(client.get(url, query_string={"q": "Wärmepumpe"}))
    assert f'value="{idea_id}"' in page and f'value="{other}"' not in page
    page = _text(client.get(url, query_string={"q": f"{idea_id}, {other}"}))
    assert f'value="{idea_id}"' in page and f'value="{other}"' in page

    response = post_form(client, f"{url}?q=W%C3%A4rmepumpe", {"ids": [str(idea_id)],
                                                              "reason": "Die Idee ist Kern dieser Maßnahme."})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "1 Idee der Maßnahme zugeordnet" in page and "Die Idee ist Kern dieser Maßnahme." in page
    with app.app_context():
        link = db.session.scalar(select(IdeaMeasure))
        assert (link.idea_id, link.measure_id, link.linked_by_id) == (idea_id, measure_id, staff.id)
        assert db.session.get(Measure, measure_id).idea_count == 1
        assert db.session.get(Idea, idea_id).status == "in_measure"
        assert db.session.scalars(select(Notification.user_id)).all() == [author.id]
    assert [message.recipient for message in outbox()] == [author.email]
    assert "Die Idee ist Kern dieser Maßnahme." in outbox()[0].body_text

    # Linking it again changes nothing and says so.
    response = post_form(client, url, {"ids": [str(idea_id)], "reason": "Nochmal."})
    assert "1 Idee war bereits zugeordnet" in _text(client.get(response.headers["Location"]))
    assert _count(app, IdeaMeasure) == 1 and len(outbox()) == 1


def test_linking_needs_a_reason_and_an_existing_idea(app, client, staff, make_idea, outbox):
    _create(client)
    measure_id = _measures(app)[0].id
    idea_id = make_idea()
    url = f"{BASE}/{measure_id}/ideen"
    response = post_form(client, url, {"ids": [str(idea_id)], "reason": " "})
    assert response.status_code == 200
    assert "Bitte begründen Sie die Zuordnung; die Begründung ist öffentlich." in _text(response)
    response = post_form(client, url, {"ids": ["999999"], "reason": "Passt."})
    assert "Diese Ideen gibt es nicht mehr: 999999." in _text(response)
    response = post_form(client, url, {"reason": "Passt."})
    assert "Bitte wählen Sie mindestens eine Idee" in _text(response)
    assert _count(app, IdeaMeasure) == 0 and _count(app, Notification) == 0 and outbox() == []


# --- deleting ------------------------------------------------------------------------------------

def test_delete_asks_first_and_is_audited(app, client, staff):
    _create(client)
    measure_id = _measures(app)[0].id
    response = post_form(client, f"{BASE}/{measure_id}/loeschen")
    assert response.status_code == 200 and "Maßnahme M-3.1 löschen?" in _text(response)
    assert len(_measures(app)) == 1

    response = post_form(client, f"{BASE}/{measure_id}/loeschen", {"confirmed": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/")
    assert _measures(app) == []
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "measure.deleted"))
        assert entry.old_values["number"] == "M-3.1" and entry.actor_id == staff.id


def test_delete_is_refused_while_ideas_are_linked(app, client, staff, make_idea):
    _create(client)
    measure_id = _measures(app)[0].id
    _link(app, measure_id, [make_idea()], staff)
    response = post_form(client, f"{BASE}/{measure_id}/loeschen", {"confirmed": "1"})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "kann nicht gelöscht werden: ihr ist 1 Idee zugeordnet" in page
    assert len(_measures(app)) == 1 and _count(app, IdeaMeasure) == 1


# --- the list and who may open what --------------------------------------------------------------

def test_list_filters_by_sector_and_status(app, client, staff):
    _create(client)
    _create(client, title="Carsharing ausbauen", sector="mobilitaet", status="planned")
    page = _text(client.get(f"{BASE}/"))
    assert "Wärmepumpen für städtische Schulen" in page and "Carsharing ausbauen" in page
    assert "2 Maßnahmen gefunden." in page and f'href="{BASE}/neu"' in page
    page = _text(client.get(f"{BASE}/", query_string={"sector": "mobilitaet"}))
    assert "Carsharing ausbauen" in page and "Wärmepumpen" not in page
    page = _text(client.get(f"{BASE}/", query_string={"status": "in_progress"}))
    assert "Carsharing" not in page and "Wärmepumpen" in page
    page = _text(client.get(f"{BASE}/", query_string={"status": "verloren"}))
    assert "Unbekannter Status: verloren" in page and "2 Maßnahmen gefunden." in page


PAGES = [("GET", "/"), ("GET", "/neu"), ("POST", "/neu"), ("GET", "/{id}/bearbeiten"), ("POST", "/{id}/bearbeiten"),
         ("GET", "/{id}/monitoring"), ("POST", "/{id}/monitoring"), ("GET", "/{id}/ideen"), ("POST", "/{id}/ideen"),
         ("POST", "/{id}/loeschen")]


def test_only_staff_and_admins_open_the_measure_staff_pages(app, users, idea_setup):
    from beteiligung.measures import services

    with app.test_request_context():
        measure = services.save_sheet(None, None, {"title": "Matrix", "sector": "verwaltung"})
        db.session.commit()
        measure_id = measure.id
    before = _state(app, measure_id)[0]
    for role in ROLES:
        client = login_as(app.test_client(), users.get(role))
        for method, path in PAGES:
            url = BASE + path.format(id=measure_id)
            if method == "GET":
                response = client.get(url)
            else:
                response = post_form(client, url, sheet(title="Übernommen") if "bearbeiten" in path else {})
            where = f"{method} {url} as {role}"
            if role in ("staff", "admin"):
                assert response.status_code in (200, 302), where
                assert "/anmelden" not in response.headers.get("Location", ""), where
            elif role == "anonymous":
                assert response.status_code == 302 and "/anmelden?next=" in response.headers["Location"], where
            else:
                assert response.status_code == 403, where
        if role in ("anonymous", "citizen", "member"):
            assert _state(app, measure_id)[0] == before and len(_measures(app)) == 1, role


@pytest.mark.parametrize("value", ["0", "7", "-300", "1250", "1250000.50", "2.125", "0.125", "12345.125", "0.5",
                                   "-1234.5", "999999999999.99"])
def test_numbers_in_the_form_read_back_to_the_same_value(value):
    from beteiligung.measures.forms import format_number
    from beteiligung.measures.sheet import parse_number

    assert parse_number(format_number(Decimal(value))) == Decimal(value)
