"""Command-line interface: `flask users ...`, `flask demo load`, `flask mail deliver`, `flask scheduler run|jobs`."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .roles import Role
from .extensions import db

users_cli = AppGroup("users", help="Konten verwalten.")
demo_cli = AppGroup("demo", help="Demo-Beteiligungsprozess.")
mail_cli = AppGroup("mail", help="E-Mail-Postausgang.")
scheduler_cli = AppGroup("scheduler", help="Geplante Aufgaben.")


def fail(message):
    click.echo(f"Fehler: {message}", err=True)
    sys.exit(2)


@users_cli.command("create")
@click.option("--email", required=True, help="E-Mail-Adresse (Anmeldename)")
@click.option("--password", required=True, help="Passwort (mindestens 10 Zeichen, schwer zu erraten)")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.CITIZEN.value,
              show_default=True)
@click.option("--name", default=None, help="Anzeigename (Standard: Teil der E-Mail-Adresse vor dem @)")
@with_appcontext
def create_user(email, password, role, name):
    """Ein Konto anlegen."""
    from .audit.services import record
    from .auth import services

    display_name = (name or email.split("@", 1)[0]).strip()[:80]
    if "@" not in email or len(email) > 254:
        fail("Bitte eine gültige E-Mail-Adresse angeben.")
    try:
        user = services.register_user(email, display_name, password, role=role)
        db.session.flush()
        record("user.created", user, new={"role": role}, details={"via": "cli"})
        db.session.commit()
    except services.AccountError as error:
        db.session.rollback()
        fail(str(error))
    click.echo(f"Konto {user.email} angelegt (Rolle: {Role(role).label}, id {user.id}).")


@users_cli.command("token")
@click.option("--email", required=True)
@click.option("--name", default="Kommandozeile", show_default=True, help="Wofür das Token ist")
@with_appcontext
def create_token(email, name):
    """Ein persönliches API-Token erzeugen und ausgeben."""
    from .auth import services

    user = services.find_user_by_email(email)
    if user is None or not user.is_active:
        fail(f"Kein aktives Konto mit der Adresse {email}.")
    _token, secret = services.create_api_token(user, name)
    db.session.commit()
    click.echo(secret)


@demo_cli.command("load")
@with_appcontext
def load_demo_command():
    """Den Demo-Prozess in eine leere Datenbank laden."""
    from .demo import format_demo_logins, load_demo

    if not load_demo():
        fail("Die Datenbank enthält bereits Konten; der Demo-Prozess wird nur in eine leere Datenbank geladen.")
    click.echo("Demo-Prozess geladen.")
    click.echo(format_demo_logins())


@mail_cli.command("deliver")
@with_appcontext
def deliver_mail():
    """Fällige Nachrichten aus dem Postausgang versenden."""
    from .mail.services import deliver_pending, smtp_configured

    if not smtp_configured():
        fail("Kein SMTP-Server konfiguriert (MAIL_SERVER); die Nachrichten bleiben im Postausgang.")
    sent, failed = deliver_pending(limit=1000)
    click.echo(f"{sent} versandt, {failed} fehlgeschlagen.")


@scheduler_cli.command("run")
@with_appcontext
def run_scheduler():
    """Den Scheduler im Vordergrund betreiben (genau ein Prozess pro Installation)."""
    from .scheduler import SchedulerError, run_forever

    try:
        still_held = run_forever(current_app._get_current_object())
    except SchedulerError as error:
        fail(str(error))
    if not still_held:
        fail("Der Scheduler hat seine Sperre verloren und wurde beendet; ein anderer Prozess führt die Aufgaben aus.")


@scheduler_cli.command("jobs")
@with_appcontext
def list_jobs():
    """Die gespeicherten Aufgaben mit ihrer nächsten Ausführung anzeigen."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from .models import scheduler_jobs

    rows = db.session.execute(db.select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time)
                              .order_by(scheduler_jobs.c.id)).all()
    if not rows:
        click.echo("Keine Aufgaben gespeichert; sie werden beim ersten Start des Schedulers angelegt.")
    for job_id, next_run in rows:
        when = ("angehalten" if next_run is None else datetime.fromtimestamp(next_run, timezone.utc)
                .astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y %H:%M:%S"))
        click.echo(f"{job_id}: nächste Ausführung {when}")


def register_cli(app):
    from .balance.cli import balance_cli
    from .ideas.cli import ideas_cli
    from .measures.cli import measures_cli

    for group in (users_cli, demo_cli, mail_cli, scheduler_cli, ideas_cli, measures_cli, balance_cli):
        app.cli.add_command(group)
