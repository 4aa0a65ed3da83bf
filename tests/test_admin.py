"""The staff area: roles, outbox and audit log."""
from beteiligung.audit.models import AuditEntry
from beteiligung.extensions import db

from .conftest import login_as, post_form


def test_admin_changes_a_role_with_audit_entry(app, client, users, get_user):
    login_as(client, users["admin"])
    target = users["citizen"]
    response = post_form(client, f"/verwaltung/benutzer/{target.id}",
                         {"role": "member", "reason": "Vertritt den ADFC im Arbeitskreis"})
    assert response.status_code == 302
    assert get_user(target.id).role == "member"
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "user.role_changed"))
        assert entry.actor_id == users["admin"].id
        assert (entry.object_type, entry.object_id) == ("user", str(target.id))
        assert entry.old_values == {"role": "citizen"} and entry.new_values == {"role": "member"}
        assert entry.reason == "Vertritt den ADFC im Arbeitskreis"
    page = client.get(f"/verwaltung/benutzer/{target.id}").get_data(as_text=True)
    assert "Vertritt den ADFC im Arbeitskreis" in page


def test_unknown_role_is_refused(client, users, get_user):
    login_as(client, users["admin"])
    response = post_form(client, f"/verwaltung/benutzer/{users['citizen'].id}", {"role": "superuser"})
    assert response.status_code == 200
    assert get_user(users["citizen"].id).role == "citizen"


def test_last_admin_keeps_the_role(client, users, get_user):
    login_as(client, users["admin"])
    response = post_form(client, f"/verwaltung/benutzer/{users['admin'].id}", {"role": "citizen"},
                         follow_redirects=True)
    assert "letzte Administrationskonto" in response.get_data(as_text=True)
    assert get_user(users["admin"].id).role == "admin"


def test_user_list_filters_and_escapes(client, make_user, users):
    make_user(name="<b>Fett</b> Gedruckt", email="fett@example.org")
    login_as(client, users["admin"])
    page = client.get("/verwaltung/benutzer?q=fett").get_data(as_text=True)
    assert "&lt;b&gt;Fett&lt;/b&gt; Gedruckt" in page
    assert "1 Konto gefunden." in page
    page = client.get("/verwaltung/benutzer?role=staff").get_data(as_text=True)
    assert users["staff"].email in page and users["citizen"].email not in page
    # LIKE wildcards in the search are taken literally.
    assert "0 Konten gefunden." in client.get("/verwaltung/benutzer?q=%25").get_data(as_text=True)


def test_outbox_shows_unsent_mail_to_admins(client, users, outbox):
    post_form(client, "/passwort-vergessen", {"email": users["citizen"].email})
    [message] = outbox()
    login_as(client, users["admin"])
    page = client.get("/verwaltung/postausgang").get_data(as_text=True)
    assert "kein SMTP-Server konfiguriert" in page
    assert "Passwort zurücksetzen" in page
    page = client.get(f"/verwaltung/postausgang/{message.id}").get_data(as_text=True)
    assert "/passwort-zuruecksetzen/" in page


def test_staff_sees_overview_and_log_but_not_accounts(client, users):
    login_as(client, users["staff"])
    page = client.get("/verwaltung/").get_data(as_text=True)
    assert "Überblick" in page and "Konten und Rollen" not in page
    assert client.get("/verwaltung/protokoll").status_code == 200
    assert client.get("/verwaltung/benutzer").status_code == 403


def test_navigation_shows_staff_area_only_to_staff(client, users):
    assert ">Verwaltung<" not in client.get("/").get_data(as_text=True)
    login_as(client, users["citizen"])
    assert ">Verwaltung<" not in client.get("/").get_data(as_text=True)
    login_as(client, users["staff"])
    assert ">Verwaltung<" in client.get("/").get_data(as_text=True)


def _audit_entries(app, users, count):
    from beteiligung.audit.services import record
    from beteiligung.auth.models import User

    with app.app_context():
        actors = [db.session.get(User, users[role].id) for role in ("admin", "staff")]
        for n in range(count):
            record("user.role_changed", object_type="user", object_id=n, actor=actors[n % 2],
                   old={"role": "citizen"}, new={"role": "member"}, reason=f"Grund {n}")
        db.session.commit()


def test_list_pages_run_a_bounded_number_of_queries(app, client, users, make_user, count_queries):
    login_as(client, users["admin"])
    pages = ["/verwaltung/", "/verwaltung/benutzer", "/verwaltung/protokoll", "/verwaltung/postausgang"]

    def counts():
        result = {}
        for page in pages:
            with count_queries() as counter:
                assert client.get(page).status_code == 200
            result[page] = counter.n
        return result

    _audit_entries(app, users, 3)
    small = counts()
    for _ in range(60):
        make_user()
    _audit_entries(app, users, 120)
    assert counts() == small
    assert 0 < min(small.values()) and max(small.values()) <= 6, small
