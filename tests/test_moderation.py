"""Moderation: reports, the queue, hiding and restoring with reasons, hidden content,
and blocking accounts, end to end through the HTTP routes."""
import pytest

from beteiligung.audit.models import AuditEntry
from beteiligung.extensions import db
from beteiligung.ideas.models import Comment, Idea, Report, Support
from beteiligung.notifications.models import Notification

from .conftest import login_as, post_form

QUEUE = "/verwaltung/moderation"


@pytest.fixture
def staff_client(app, users):
    return login_as(app.test_client(), users["staff"])


def client_for(app, user):
    return login_as(app.test_client(), user)


def report_idea(app, user, idea_id, reason="spam", note=None):
    data = {"reason": reason}
    if note:
        data["note"] = note
    return post_form(client_for(app, user), f"/ideen/{idea_id}/melden", data, follow_redirects=True)


def report_comment(app, user, comment_id, reason="insult", note=None):
    data = {"reason": reason}
    if note:
        data["note"] = note
    return post_form(client_for(app, user), f"/ideen/kommentare/{comment_id}/melden", data, follow_redirects=True)


def write_comment(app, user, idea_id, text="Gute Idee, aber die Brücke fehlt."):
    response = post_form(client_for(app, user), f"/ideen/{idea_id}/kommentare", {"text": text})
    assert response.status_code == 302
    with app.app_context():
        return db.session.scalar(db.select(Comment.id).where(Comment.idea_id == idea_id, Comment.text == text))


def get(app, model, object_id):
    with app.app_context():
        return db.session.get(model, object_id)


def audit(app, action):
    with app.app_context():
        return db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).all()


def notifications(app, user_id, kind=None):
    with app.app_context():
        query = db.select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return db.session.scalars(query).all()


def open_reports(app, **target):
    with app.app_context():
        column = Report.idea_id if "idea_id" in target else Report.comment_id
        value = target.get("idea_id", target.get("comment_id"))
        return db.session.scalar(db.select(db.func.count(Report.id))
                                 .where(column == value, Report.resolved_at.is_(None)))


# --- reports and automatic hiding ------------------------------------------------------------

def test_three_reports_from_three_people_hide_an_idea_automatically(app, make_user, make_idea, outbox):
    author = make_user(name="Autorin")
    idea_id = make_idea(author=author, title="Kaufen Sie jetzt billige Uhren")
    reporters = [make_user() for _ in range(3)]
    assert app.config["REPORTS_TO_HIDE"] == 3

    for count, reporter in enumerate(reporters[:2], start=1):
        page = report_idea(app, reporter, idea_id).get_data(as_text=True)
        assert "Danke für Ihre Meldung" in page
        idea = get(app, Idea, idea_id)
        assert idea.report_count == count and not idea.is_hidden

    report_idea(app, reporters[2], idea_id, note="Reine Werbung")
    idea = get(app, Idea, idea_id)
    assert idea.is_hidden and idea.report_count == 3
    assert "Automatisch ausgeblendet nach 3 Meldungen" in idea.hidden_reason
    [entry] = audit(app, "idea.hidden")
    assert entry.actor_id is None and entry.details == {"automatic": True}
    # The author is told, in the app and by e-mail; the reports stay open for a moderator.
    [note] = notifications(app, author.id, "idea.hidden")
    assert "ausgeblendet" in note.message
    assert any(m.recipient == author.email and m.subject == "Ihr Beitrag wurde ausgeblendet" for m in outbox())
    assert open_reports(app, idea_id=idea_id) == 3


def test_the_same_person_cannot_report_twice(app, make_user, make_idea):
    idea_id = make_idea()
    reporter = make_user()
    report_idea(app, reporter, idea_id)
    page = report_idea(app, reporter, idea_id, reason="insult").get_data(as_text=True)
    assert "Sie haben diesen Beitrag bereits gemeldet." in page
    assert get(app, Idea, idea_id).report_count == 1
    assert open_reports(app, idea_id=idea_id) == 1


# --- the queue -------------------------------------------------------------------------------

def test_queue_shows_one_row_per_target_with_reasons_notes_and_author_link(app, make_user, make_idea,
                                                                           staff_client):
    author = make_user(name="Kommentar-Autor")
    older = make_idea(title="Ältere gemeldete Idee")
    newer = make_idea(title="Neuere gemeldete Idee")
    comment_id = write_comment(app, author, older, text="Ihr seid alle <b>Idioten</b>")
    first, second, third = make_user(), make_user(), make_user()
    report_idea(app, first, older, reason="spam", note="Werbung für Uhren")
    report_idea(app, second, older, reason="spam")
    report_comment(app, first, comment_id, reason="insult", note="Beleidigung")
    report_idea(app, third, newer, reason="off_topic")
    report_idea(app, third, older, reason="insult")  # the third report hides it automatically

    page = staff_client.get(QUEUE).get_data(as_text=True)
    assert "3 Beiträge mit offenen Meldungen." in page
    # Oldest first report first.
    assert page.index("Ältere gemeldete Idee") < page.index("Kommentar Nr.") < page.index("Neuere gemeldete Idee")
    assert "Werbung oder Spam: 2" in page and "beleidigend oder diskriminierend: 1" in page
    assert "„Werbung für Uhren“" in page and "„Beleidigung“" in page
    assert "Automatisch ausgeblendet" in page  # the older idea, after three reports
    assert "Ihr seid alle &lt;b&gt;Idioten&lt;/b&gt;" in page  # escaped
    assert f'/verwaltung/moderation/benutzer/{author.id}"' in page
    assert f"/verwaltung/moderation/kommentare/{comment_id}/ausblenden" in page
    assert f"/verwaltung/moderation/ideen/{newer}/behalten" in page

    only_comments = staff_client.get(QUEUE + "?art=kommentare").get_data(as_text=True)
    assert "1 Beitrag mit offenen Meldungen." in only_comments and "Neuere gemeldete Idee" not in only_comments


def test_queue_runs_a_fixed_number_of_queries(app, make_user, make_idea, staff_client, count_queries):
    reporter = make_user()

    made = []

    def add_reported(n):
        for _ in range(n):
            made.append(len(made))
            idea_id = make_idea(title=f"Gemeldete Idee {made[-1]}")
            report_idea(app, reporter, idea_id, note=f"Anmerkung {made[-1]}")
            comment_id = write_comment(app, make_user(), idea_id, text=f"Kommentar {made[-1]}")
            report_comment(app, reporter, comment_id, note="Bitte prüfen")

    add_reported(2)
    with count_queries() as few:
        assert staff_client.get(QUEUE).status_code == 200
    add_reported(8)
    with count_queries() as many:
        page = staff_client.get(QUEUE).get_data(as_text=True)
    assert "20 Beiträge mit offenen Meldungen." in page
    assert many.n == few.n, many.statements


def test_keeping_closes_the_reports_and_the_content_stays(app, make_user, make_idea, staff_client, users):
    idea_id = make_idea()
    report_idea(app, make_user(), idea_id)
    response = post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/behalten", {"next": QUEUE})
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    idea = get(app, Idea, idea_id)
    assert not idea.is_hidden and idea.report_count == 0
    assert open_reports(app, idea_id=idea_id) == 0
    with app.app_context():
        report = db.session.scalar(db.select(Report).where(Report.idea_id == idea_id))
        assert (report.resolution, report.resolved_by_id) == ("kept", users["staff"].id)
    [entry] = audit(app, "idea.reports_dismissed")
    assert entry.actor_id == users["staff"].id
    assert "0 Beiträge mit offenen Meldungen." in staff_client.get(QUEUE).get_data(as_text=True)
    # Nothing left to keep: a clear message, nothing changes.
    page = post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/behalten", follow_redirects=True).get_data(as_text=True)
    assert "keine offenen Meldungen" in page


# --- hiding and restoring ----------------------------------------------------------------------

def test_hide_and_restore_with_reason_notify_the_author_and_are_audited(app, make_user, make_idea, staff_client,
                                                                      users, outbox):
    author = make_user(name="Autorin")
    idea_id = make_idea(author=author)
    report_idea(app, make_user(), idea_id, reason="personal_data")

    response = post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/ausblenden",
                         {"reason": "Enthält die Telefonnummer eines Nachbarn."}, follow_redirects=True)
    assert "ist ausgeblendet" in response.get_data(as_text=True)
    idea = get(app, Idea, idea_id)
    assert idea.is_hidden and idea.hidden_reason == "Enthält die Telefonnummer eines Nachbarn."
    assert open_reports(app, idea_id=idea_id) == 0
    [hidden] = audit(app, "idea.hidden")
    assert hidden.actor_id == users["staff"].id and hidden.reason == "Enthält die Telefonnummer eines Nachbarn."
    [note] = notifications(app, author.id, "idea.hidden")
    assert "Telefonnummer" in note.message
    assert [m.subject for m in outbox() if m.recipient == author.email] == ["Ihr Beitrag wurde ausgeblendet"]

    # The list of hidden content names who hid it and why.
    page = staff_client.get(f"{QUEUE}/ausgeblendet").get_data(as_text=True)
    assert "1 ausgeblendeter Beitrag." in page
    assert "Enthält die Telefonnummer eines Nachbarn." in page and "Staff Muster" in page

    response = post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/einblenden",
                         {"reason": "Die Autorin hat die Nummer entfernt."}, follow_redirects=True)
    assert "ist wieder sichtbar" in response.get_data(as_text=True)
    idea = get(app, Idea, idea_id)
    assert not idea.is_hidden and idea.hidden_reason is None
    [restored] = audit(app, "idea.restored")
    assert restored.actor_id == users["staff"].id and restored.reason == "Die Autorin hat die Nummer entfernt."
    [note] = notifications(app, author.id, "idea.restored")
    assert "wieder sichtbar" in note.message and "Nummer entfernt" in note.message


def test_hiding_needs_a_reason(app, make_idea, staff_client):
    idea_id = make_idea()
    page = post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/ausblenden", {"reason": "   "},
                     follow_redirects=True).get_data(as_text=True)
    assert "Begründung: Bitte füllen Sie dieses Feld aus." in page
    assert not get(app, Idea, idea_id).is_hidden
    assert audit(app, "idea.hidden") == []


def test_the_author_still_sees_a_hidden_idea_with_the_reason_others_get_404(app, make_user, make_idea,
                                                                          staff_client, users):
    author = make_user()
    idea_id = make_idea(author=author, title="Eine bald ausgeblendete Idee")
    post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/ausblenden", {"reason": "Beleidigt eine Person namentlich."})

    page = client_for(app, author).get(f"/ideen/{idea_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Diese Idee ist ausgeblendet" in text and "Beleidigt eine Person namentlich." in text
    assert client_for(app, make_user()).get(f"/ideen/{idea_id}").status_code == 404
    assert app.test_client().get(f"/ideen/{idea_id}").status_code == 404
    assert staff_client.get(f"/ideen/{idea_id}").status_code == 200
    assert "Eine bald ausgeblendete Idee" not in app.test_client().get("/ideen/").get_data(as_text=True)


def test_confirming_an_automatic_hiding_replaces_the_reason_and_closes_reports(app, make_user, make_idea,
                                                                             staff_client, users):
    author = make_user()
    idea_id = make_idea(author=author)
    for _ in range(3):
        report_idea(app, make_user(), idea_id)
    assert get(app, Idea, idea_id).is_hidden

    # "Keep" does not apply to hidden content: it has to be restored with a reason.
    page = post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/behalten", follow_redirects=True).get_data(as_text=True)
    assert "blenden Sie ihn mit einer Begründung wieder ein" in page
    assert open_reports(app, idea_id=idea_id) == 3

    page = post_form(staff_client, f"{QUEUE}/ideen/{idea_id}/ausblenden", {"reason": "Werbung für einen Shop."},
                     follow_redirects=True).get_data(as_text=True)
    assert "Ausblendung (Idee Nr." in page and "ist bestätigt" in page
    idea = get(app, Idea, idea_id)
    assert idea.is_hidden and idea.hidden_reason == "Werbung für einen Shop." and idea.report_count == 0
    assert open_reports(app, idea_id=idea_id) == 0
    [entry] = audit(app, "idea.hide_confirmed")
    assert entry.actor_id == users["staff"].id and entry.new_values == {"hidden_reason": "Werbung für einen Shop."}
    assert "Werbung für einen Shop." in notifications(app, author.id, "idea.hidden")[-1].message
    page = staff_client.get(f"{QUEUE}/ausgeblendet").get_data(as_text=True)
    assert "Staff Muster" in page and "wartet auf Ihre Entscheidung" not in page


def test_hiding_a_comment_lowers_the_comment_count_and_restoring_raises_it(app, make_user, make_idea,
                                                                         staff_client):
    idea_id = make_idea()
    author = make_user()
    comment_id = write_comment(app, author, idea_id, text="Das ist Quatsch, ihr Trottel.")
    write_comment(app, make_user(), idea_id, text="Ich finde die Idee gut.")
    assert get(app, Idea, idea_id).comment_count == 2

    post_form(staff_client, f"{QUEUE}/kommentare/{comment_id}/ausblenden", {"reason": "Beleidigung."})
    assert get(app, Comment, comment_id).is_hidden
    assert get(app, Idea, idea_id).comment_count == 1
    assert notifications(app, author.id, "comment.hidden")
    [entry] = audit(app, "comment.hidden")
    assert entry.object_id == str(comment_id)
    # Hiding twice changes nothing.
    page = post_form(staff_client, f"{QUEUE}/kommentare/{comment_id}/ausblenden", {"reason": "Nochmal."},
                     follow_redirects=True).get_data(as_text=True)
    assert "bereits ausgeblendet" in page
    assert get(app, Idea, idea_id).comment_count == 1

    post_form(staff_client, f"{QUEUE}/kommentare/{comment_id}/einblenden", {"reason": "Nach Rücksprache ok."})
    assert not get(app, Comment, comment_id).is_hidden
    assert get(app, Idea, idea_id).comment_count == 2


def test_moderation_is_for_staff_only(app, make_idea, users):
    idea_id = make_idea()
    for role in ("citizen", "member"):
        client = client_for(app, users[role])
        assert client.get(QUEUE).status_code == 403
        assert post_form(client, f"{QUEUE}/ideen/{idea_id}/ausblenden", {"reason": "x"}).status_code == 403
    assert not get(app, Idea, idea_id).is_hidden


# --- blocking ----------------------------------------------------------------------------------

def test_staff_blocks_and_unblocks_an_account_with_reason(app, make_user, make_idea, staff_client, users, outbox,
                                                        get_user):
    person = make_user(name="Störenfried")
    idea_id = make_idea(author=person)
    report_idea(app, make_user(), idea_id)
    page = staff_client.get(f"{QUEUE}/benutzer/{person.id}").get_data(as_text=True)
    assert "Störenfried" in page and "Bürgerin oder Bürger" in page
    assert "Offene Meldungen zu den Beiträgen</dt><dd>1</dd>" in page
    assert "Konto sperren" in page
    assert person.email not in page  # staff do not need the address

    page = post_form(staff_client, f"{QUEUE}/benutzer/{person.id}", {"action": "block", "reason": ""}).get_data(
        as_text=True)
    assert "Bitte füllen Sie dieses Feld aus." in page and not get_user(person.id).is_blocked

    response = post_form(staff_client, f"{QUEUE}/benutzer/{person.id}",
                         {"action": "block", "reason": "Wiederholt beleidigende Kommentare."}, follow_redirects=True)
    assert "ist für Beiträge gesperrt" in response.get_data(as_text=True)
    blocked = get_user(person.id)
    assert blocked.is_blocked and blocked.blocked_reason == "Wiederholt beleidigende Kommentare."
    [entry] = audit(app, "user.blocked")
    assert entry.actor_id == users["staff"].id and entry.object_id == str(person.id)
    assert notifications(app, person.id, "user.blocked")
    assert any(m.recipient == person.email and m.subject == "Ihr Konto wurde gesperrt" for m in outbox())
    assert "Sperre aufheben" in response.get_data(as_text=True)

    post_form(staff_client, f"{QUEUE}/benutzer/{person.id}", {"action": "unblock", "reason": "Hat sich entschuldigt."})
    assert not get_user(person.id).is_blocked
    [entry] = audit(app, "user.unblocked")
    assert entry.reason == "Hat sich entschuldigt."
    assert notifications(app, person.id, "user.unblocked")


def test_staff_and_admin_accounts_cannot_be_blocked(app, staff_client, users, get_user):
    for role in ("admin", "staff"):
        target = users[role]
        page = staff_client.get(f"{QUEUE}/benutzer/{target.id}").get_data(as_text=True)
        assert "können nicht gesperrt werden" in page and "Konto sperren" not in page
        post_form(staff_client, f"{QUEUE}/benutzer/{target.id}", {"action": "block", "reason": "Test"},
                  follow_redirects=True)
        assert not get_user(target.id).is_blocked
    assert audit(app, "user.blocked") == []


def test_a_blocked_person_can_read_but_not_write_ideas_comments_supports_or_reports(app, make_user, make_idea,
                                                                                   staff_client, idea_setup):
    person = make_user()
    idea_id = make_idea(title="Mehr Bäume am Holzmarkt")
    post_form(staff_client, f"{QUEUE}/benutzer/{person.id}", {"action": "block", "reason": "Spam-Konto."})
    client = client_for(app, person)

    assert client.get(f"/ideen/{idea_id}").status_code == 200
    form = client.get("/ideen/neu").get_data(as_text=True)
    assert "Ihr Konto ist für Beiträge gesperrt" in form and "Spam-Konto." in form
    post_form(client, "/ideen/neu", {"title": "Neue Idee", "text": "Ein Text", "sector": "mobilitaet",
                                     "district": "lobeda-ost"})
    page = post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "Mein Kommentar"},
                     follow_redirects=True).get_data(as_text=True)
    assert "Ihr Konto ist für Beiträge gesperrt" in page
    page = post_form(client, f"/ideen/{idea_id}/unterstuetzen", follow_redirects=True).get_data(as_text=True)
    assert "Ihr Konto ist für Beiträge gesperrt" in page
    page = post_form(client, f"/ideen/{idea_id}/melden", {"reason": "spam"}, follow_redirects=True).get_data(
        as_text=True)
    assert "Ihr Konto ist für Beiträge gesperrt" in page

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Idea.id)).where(Idea.author_id == person.id)) == 0
        assert db.session.scalar(db.select(db.func.count(Comment.id)).where(Comment.author_id == person.id)) == 0
        assert db.session.scalar(db.select(db.func.count(Support.id)).where(Support.user_id == person.id)) == 0
        assert db.session.scalar(db.select(db.func.count(Report.id)).where(Report.reporter_id == person.id)) == 0

    # Unblocked, the same requests work.
    post_form(staff_client, f"{QUEUE}/benutzer/{person.id}", {"action": "unblock", "reason": "Versehen."})
    post_form(client, f"/ideen/{idea_id}/unterstuetzen")
    post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "Mein Kommentar"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Support.id)).where(Support.user_id == person.id)) == 1
        assert db.session.scalar(db.select(db.func.count(Comment.id)).where(Comment.author_id == person.id)) == 1


def test_moderation_page_of_a_deleted_or_unknown_account_is_404(app, staff_client):
    assert staff_client.get(f"{QUEUE}/benutzer/999999").status_code == 404
