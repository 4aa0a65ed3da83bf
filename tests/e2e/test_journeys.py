"""End-to-end journeys in a real browser: what citizens, staff and working-group members do.

Each test creates its own accounts, ideas and entries with unique names and leaves the demo
otherwise as it was, so the tests run in any order and beside the accessibility crawl. They
assert what the page shows after each step (headings, counts, flash messages, list entries),
not only that nothing broke.
"""
import re
import time
import uuid

from playwright.sync_api import expect

from .conftest import expect_flash, fill_form, format_violations, labelled, run_axe

PASSWORD = "Kastanie-Nebel-Fenster-73"


def unique(length=8):
    """Letters only, so that the token is one word for the full-text search on both databases."""
    return "".join("abcdefghijklmnop"[int(digit, 16)] for digit in uuid.uuid4().hex[:length])


def register(page, name):
    """A new citizen account through /registrieren; returns its e-mail address."""
    email = f"e2e-{unique()}@beispiel.example"
    page.goto("/registrieren")
    form = page.locator("main form[method=post]")
    fill_form(form, {
        "E-Mail-Adresse": email,
        "Anzeigename": name,
        "Passwort": PASSWORD,
        "Passwort wiederholen": PASSWORD,
        "Ich habe die Datenschutzerklärung gelesen und bin mit der Verarbeitung meiner Angaben einverstanden.": True,
    })
    form.get_by_role("button", name="Konto anlegen").click()
    # No confirmation mail is needed: the new account is signed in at once.
    expect(page).to_have_url(re.compile(r"/konto/$"))
    expect_flash(page, "Ihr Konto ist angelegt und Sie sind angemeldet")
    expect(page.get_by_role("navigation", name="Konto", exact=True)).to_contain_text(f"Mein Konto ({name})")
    return email


def wait_for_similar_index(page, title, text):
    """The similar-ideas index is built in a background thread after the server starts (and
    the first query answers empty meanwhile); wait until it answers, as a person who keeps
    typing would."""
    deadline = time.monotonic() + 60
    while True:
        answer = page.request.get("/ideen/aehnliche", params={"title": title, "text": text}).json()
        if answer["items"] or time.monotonic() > deadline:
            return
        time.sleep(0.3)


def support_count(page):
    return int(page.locator("#unterstuetzung .support-figures strong").first.inner_text())


# --- 1. a citizen registers, writes an idea, supports another and comments ---------------

def test_citizen_registers_writes_supports_and_comments(make_page):
    page = make_page()
    name = f"Radlerin {unique(5)}"
    register(page, name)

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Ideen").click()
    page.get_by_role("link", name="Idee einreichen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Idee einreichen")

    # While the title and text are typed, the form asks for similar ideas and lists them.
    title = f"Fahrradstraße mit sicheren Radwegen für Schulkinder {unique(4)}"
    text = ("Auf dem Schulweg fehlen sichere Radwege. Eine Fahrradstraße, auf der Radfahrer Vorrang haben, "
            "würde den Radverkehr sicherer machen.")
    wait_for_similar_index(page, title, text)
    form = page.locator("#idea-form")
    panel = page.locator("#similar-ideas")
    expect(panel).to_contain_text("Noch keine ähnlichen Ideen gefunden.")
    labelled(form, "Titel").press_sequentially(title[:40])
    labelled(form, "Beschreibung").fill(text)
    suggestions = panel.locator("li a")
    expect(suggestions.first).to_be_visible()
    expect(panel).to_contain_text("Ähnliche Ideen:")
    titles = suggestions.all_inner_texts()
    hrefs = [suggestions.nth(i).get_attribute("href") for i in range(len(titles))]
    assert 1 <= len(titles) <= 5, titles
    assert all(re.fullmatch(r"/ideen/\d+", href) for href in hrefs), hrefs
    # Demo ideas about cycling (not ideas of earlier runs of this test on the same server).
    demo = [(t, href) for t, href in zip(titles, hrefs) if not t.startswith(title[:40])]
    assert any(re.search(r"rad|fahrrad", t, re.IGNORECASE) for t, _href in demo), titles
    other_url = demo[0][1]

    labelled(form, "Titel").fill(title)
    fill_form(form, {"Handlungsfeld": "Mobilität", "Stadtteil": "Jena-Ost"})
    form.get_by_role("button", name="Idee veröffentlichen").click()

    expect(page).to_have_url(re.compile(r"/ideen/\d+$"))
    expect_flash(page, "Danke! Ihre Idee ist veröffentlicht.")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    facts = page.locator(".idea-detail .facts")
    expect(facts).to_contain_text("Mobilität")
    expect(facts).to_contain_text("Jena-Ost")
    expect(page.locator(".idea-text")).to_contain_text("Fahrradstraße, auf der Radfahrer Vorrang haben")
    expect(page.get_by_role("link", name="Idee bearbeiten")).to_be_visible()  # the author may edit

    # Support a demo idea from the suggestions: the count goes up by exactly one.
    page.goto(other_url)
    before = support_count(page)
    page.locator("#unterstuetzung").get_by_role("button", name="Idee unterstützen").click()
    expect_flash(page, "Danke für Ihre Unterstützung!")
    assert support_count(page) == before + 1
    expect(page.locator("#unterstuetzung")).to_contain_text("Sie unterstützen diese Idee.")
    expect(page.locator("#unterstuetzung").get_by_role("button", name="Unterstützung zurückziehen")).to_be_visible()

    # Comment on it: the comment appears with the display name.
    heading = page.locator("#kommentare-titel")
    comments_before = int(heading.inner_text().split()[0])
    comment = f"Gute Idee, ich fahre dort jeden Tag mit dem Rad. ({unique(6)})"
    page.get_by_label("Ihr Kommentar", exact=True).fill(comment)
    page.get_by_role("button", name="Kommentar veröffentlichen").click()
    expect_flash(page, "Ihr Kommentar ist veröffentlicht.")
    mine = page.get_by_role("article", name=f"Kommentar von {name}")
    expect(mine).to_have_count(1)
    expect(mine.locator(".comment-text")).to_have_text(comment)
    expect(heading).to_have_text(re.compile(rf"^{comments_before + 1} Kommentar"))


# --- 2. staff enter workshop results, analyse them and link a cluster to a measure --------

def test_staff_enter_results_analyse_and_assign_cluster(make_page):
    page = make_page("staff")
    token = unique(10).capitalize()
    cards = [
        (f"{token}: Regenwasser in Zisternen sammeln",
         f"{token} Regenwasser von Dächern in Zisternen sammeln und für Stadtbäume nutzen.", "3"),
        (f"{token}: Schwammstadt mit Mulden für Regenwasser",
         f"{token} Mulden und Rigolen nehmen Regenwasser auf, Stadtbäume bekommen Wasser.", "5"),
        (f"{token}: Entsiegelte Schulhöfe mit Bäumen",
         f"{token} Schulhöfe entsiegeln, Bäume pflanzen, Regenwasser versickern lassen.", "2"),
        (f"{token}: Hitzeschutz durch Stadtbäume",
         f"{token} Mehr Stadtbäume spenden Schatten und kühlen im Sommer die Straßen.", "4"),
    ]

    # The event's staff page leads to the results form of a past workshop.
    page.goto("/verwaltung/veranstaltungen/")
    past = page.locator("table", has=page.locator("caption", has_text="Vergangene"))
    past.locator("tbody th a, tbody td a").first.click()
    expect(page).to_have_url(re.compile(r"/verwaltung/veranstaltungen/\d+$"))
    event_title = page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="Ergebnisse eintragen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ergebnisse als Ideen eintragen")
    form = page.locator("main form.entry-form")
    fill_form(form, {"Stadtteil der Ideen": "Jena-Zentrum"})
    for number, (title, text, dots) in enumerate(cards, start=1):
        row = form.locator("fieldset", has=page.locator("legend", has_text=re.compile(rf"^Idee {number}$")))
        fill_form(row, {"Titel": title, "Text": text, "Klebepunkte": dots})
    form.get_by_role("button", name="Ideen speichern").click()
    expect_flash(page, "4 Ideen gespeichert.")
    results = page.locator("#ergebnisse")
    for title, _text, dots in cards:
        row = results.get_by_role("row", name=re.compile(re.escape(title)))
        expect(row.locator("td.num").first).to_have_text(dots)  # the dot-votes column

    # Start an analysis of just these ideas and watch its progress page until it is done.
    page.goto("/verwaltung/analyse/")
    start = page.locator("main form[action$='/starten']")
    fill_form(start, {"Suche": token})
    # The page polls /fortschritt and opens the result when the run is done; the polls are held
    # back until axe has looked at the progress page, then let through.
    held, holding = [], [True]
    page.route("**/fortschritt", lambda route: held.append(route) if holding[0] else route.continue_())
    start.get_by_role("button", name="Analyse starten").click()
    expect(page).to_have_url(re.compile(r"/verwaltung/analyse/laeufe/\d+$"))
    progress = page.locator("progress#fortschritt")
    board = page.locator("ol.cluster-board")
    expect(progress.or_(board)).to_be_visible()
    if progress.is_visible():  # a run of 4 ideas can, rarely, be done before its page is shown
        expect(page.get_by_role("status")).to_contain_text("%")
        violations = run_axe(page)
        assert not violations, format_violations(page.url + " (Fortschritt)", violations)
    holding[0] = False
    for route in held:
        route.continue_()
    expect(board).to_be_visible(timeout=60_000)
    facts = page.locator("main .facts").first
    expect(facts).to_contain_text(f"Suche „{token}“ (4 Ideen)")
    violations = run_axe(page)
    assert not violations, format_violations(page.url + " (Gruppen)", violations)

    # Link the first cluster to a measure.
    board.locator("li h3 a").first.click()
    expect(page).to_have_url(re.compile(r"/gruppen/\d+$"))
    members = page.locator("table.triage-table tbody tr")
    titles = [t.strip() for t in members.locator("th[scope=row] a").all_inner_texts()]
    assert titles and set(titles) <= {title for title, _t, _d in cards}, titles
    violations = run_axe(page)
    assert not violations, format_violations(page.url + " (Gruppe)", violations)
    select_all = page.get_by_label("Alle Ideen dieser Tabelle auswählen")
    select_all.check()  # shown by staff.js
    for index in range(members.count()):
        expect(members.nth(index).locator("input[name=ids]")).to_be_checked()
    measure = page.get_by_label("Bestehende Maßnahme", exact=True)
    measure.select_option(index=1)
    measure_label = measure.locator("option:checked").inner_text()
    measure_id = measure.input_value()
    number = measure_label.split()[0]
    reason = f"Aus der Werkstatt „{event_title}“ ({token})."
    fill_form(page.locator("main"), {"Begründung (öffentlich)": reason})
    page.get_by_role("button", name="Auswahl der Maßnahme zuordnen").click()
    expect_flash(page, f"der Maßnahme {number} zugeordnet")
    for title in titles:
        expect(page.get_by_role("row", name=re.compile(re.escape(title)))).to_contain_text(f"In Maßnahme: {number}")

    # The public measure sheet lists the ideas with the reason, and an idea links back.
    page.goto(f"/massnahmen/{measure_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    section = page.locator("section", has=page.locator("#beteiligung"))
    for title in titles:
        row = section.get_by_role("row", name=re.compile(re.escape(title)))
        expect(row).to_contain_text(reason)
    section.get_by_role("link", name=titles[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(titles[0])
    expect(page.locator(".answer-box")).to_contain_text(number)


# --- 3. a working-group member proposes an agenda item -------------------------------------

def test_member_proposes_agenda_item(make_page):
    page = make_page("member")
    page.goto("/arbeitskreis/")
    page.locator("main").get_by_role("link", name="Arbeitskreis Klimaschutz").click()
    expect(page).to_have_url(re.compile(r"/arbeitskreis/[\w-]+/$"))
    meeting_links = [href for href in page.locator("main a[href*='/arbeitskreis/sitzung/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]
    # The first upcoming meeting whose proposal deadline has not passed.
    for href in dict.fromkeys(meeting_links):
        page.goto(href)
        if page.get_by_role("button", name="Punkt vorschlagen").count():
            break
    else:
        raise AssertionError(f"keine Sitzung nimmt Vorschläge an: {meeting_links}")
    meeting_url = page.url

    title = f"Kältenetz für das Klinikum {unique(5)}"
    form = page.locator("main form[action$='/vorschlag']")
    fill_form(form, {"Titel des Punktes": title, "Worum geht es?": "Abwärme und Kälte gemeinsam planen.",
                     "Gewünschte Dauer in Minuten": "20"})
    form.get_by_role("button", name="Punkt vorschlagen").click()
    expect_flash(page, f"Ihr Vorschlag „{title}“ ist eingegangen.")
    own = page.locator("section", has=page.locator("#eigene-vorschlaege"))
    expect(own.locator("li", has_text=title)).to_contain_text("wartet auf die Entscheidung der Geschäftsstelle")

    # Staff see it among the proposals on the meeting's staff page, with the proposer and length.
    account = page.get_by_role("navigation", name="Konto", exact=True).get_by_role(
        "link", name=re.compile("Mein Konto"))
    proposer = re.search(r"\((.+)\)", account.inner_text()).group(1)
    meeting_id = re.search(r"/sitzung/(\d+)", meeting_url).group(1)
    staff = make_page("staff")
    staff.goto("/verwaltung/gremien/")
    staff.locator(f"main a[href$='/verwaltung/gremien/sitzung/{meeting_id}/']").first.click()
    proposals = staff.locator("section", has=staff.locator("#vorschlaege"))
    card = proposals.locator("article", has=staff.get_by_role("heading", name=title))
    expect(card).to_contain_text(f"von {proposer} · 20 Minuten")
    # (The accessible name has a space before the colon: the visually hidden span is a block.)
    accept = card.get_by_role("button", name=re.compile(rf"^Auf die Tagesordnung\s*: {re.escape(title)}$"))
    expect(accept).to_be_visible()


# --- 4. a citizen lands on the waiting list of a full workshop and leaves it -------------

def test_citizen_waiting_list_for_full_workshop(make_page):
    page = make_page()
    register(page, f"Wartende {unique(5)}")
    page.goto("/veranstaltungen/")
    full = page.locator("main article, main li").filter(has_text="ausgebucht – Warteliste").first
    full.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/veranstaltungen/\d+$"))
    event_url = page.url
    title = page.get_by_role("heading", level=1).inner_text()
    facts = page.locator("article .facts")
    waiting_before = int(re.search(r"(\d+) Person(?:en)? wartet?", facts.inner_text()).group(1))

    box = page.locator("#anmeldung")
    expect(box).to_contain_text("Alle Plätze sind vergeben.")
    box.get_by_role("button", name="Auf die Warteliste setzen").click()
    position = waiting_before + 1
    expect_flash(page, f"Sie stehen auf Platz {position} der Warteliste")
    expect(box).to_contain_text(f"Warteliste, Platz {position}")
    expect(box).to_contain_text(f"Sie stehen auf Platz {position} der Warteliste.")
    expect(facts).to_contain_text(f"{waiting_before + 1} Personen warten")

    page.goto("/veranstaltungen/meine")
    entry = page.locator("main li", has=page.get_by_role("link", name=title))
    expect(entry).to_contain_text(f"Warteliste, Platz {position}")

    page.goto(event_url)
    box.get_by_role("button", name="Von der Warteliste abmelden").click()
    expect_flash(page, "Sie sind von der Warteliste abgemeldet.")
    expect(box.get_by_role("button", name="Auf die Warteliste setzen")).to_be_visible()
    expect(box).not_to_contain_text("Platz")
    expect(facts).to_contain_text(f"{waiting_before} Person")
    page.goto("/veranstaltungen/meine")
    expect(page.get_by_role("link", name=title)).to_have_count(0)
