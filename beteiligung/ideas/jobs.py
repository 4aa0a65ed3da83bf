"""Background jobs of the ideas area: announcing the start and the end of the phases.

Every minute the job looks for a phase that has started (starts_at <= now and no
start_notified_at) or ended (ends_at <= now and no end_notified_at). It claims the
event with a conditional UPDATE ... WHERE start_notified_at IS NULL; only the run
whose UPDATE changed the row (rowcount 1) sends, so two schedulers, or a run that
overlaps the next one, never announce twice. Claim and notifications are committed
together: if sending fails, the claim is rolled back and the next run tries again.

Recipients are read in batches by id, and the session is flushed and emptied after
each batch, so even ten thousand accounts never sit in memory at once.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select, union, update

from ..auth.models import User
from ..extensions import db
from ..models import utcnow
from ..notifications.services import notify
from ..roles import Role
from ..scheduler import job
from .models import Idea, Phase, Support

log = logging.getLogger(__name__)

# A start or end further back than this when the job first sees it (say, dates entered
# after the fact) is marked as announced without sending anything.
STALE_AFTER = timedelta(days=2)
BATCH_SIZE = 500

START, END = "start", "end"


@dataclass(frozen=True)
class PhaseEvent:
    """A phase has started or ended and has not been announced yet."""
    phase_id: int
    kind: str  # Phase.COLLECTION or Phase.SUPPORT
    edge: str  # START or END
    at: datetime  # the moment of the start or end
    ends_at: datetime | None  # the phase's end (named in the start announcement)


def due_events(now=None):
    """The starts and ends that have happened and wait for their announcement."""
    now = now or utcnow()
    events = []
    for phase in db.session.scalars(select(Phase).order_by(Phase.id)):
        if phase.starts_at is not None and phase.starts_at <= now and phase.start_notified_at is None:
            events.append(PhaseEvent(phase.id, phase.kind, START, phase.starts_at, phase.ends_at))
        if phase.ends_at is not None and phase.ends_at <= now and phase.end_notified_at is None:
            events.append(PhaseEvent(phase.id, phase.kind, END, phase.ends_at, phase.ends_at))
    return events


def claim(event, now=None):
    """Mark `event` as announced, atomically; True only for the one caller that did it.

    The WHERE clause repeats the conditions, so a concurrent run (or an admin who moved
    the date in the meantime) makes the UPDATE match no row.
    """
    notified = Phase.start_notified_at if event.edge == START else Phase.end_notified_at
    moment = Phase.starts_at if event.edge == START else Phase.ends_at
    result = db.session.execute(
        update(Phase)
        .where(Phase.id == event.phase_id, notified.is_(None), moment == event.at)
        .values({notified.key: now or utcnow()})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _is_stale(event, now):
    if event.at < now - STALE_AFTER:
        return True
    # A start that is only noticed after the phase has already ended is not worth announcing.
    return event.edge == START and event.ends_at is not None and event.ends_at <= now


def _active_users():
    return select(User).where(User.deleted_at.is_(None), User.email.is_not(None))


def _recipients(event):
    """A select of the users to tell about `event` (without ORDER BY or LIMIT)."""
    query = _active_users()
    if event.edge == START:
        query = query.where(User.blocked_at.is_(None))  # they could not take part anyway
        if event.kind == Phase.SUPPORT:
            query = query.where(User.role == Role.CITIZEN.value)
        return query
    authors = select(Idea.author_id).where(Idea.author_id.is_not(None), Idea.hidden_at.is_(None))
    if event.kind == Phase.COLLECTION:
        return query.where(User.id.in_(authors))
    supporters = select(Support.user_id)
    return query.where(User.id.in_(union(authors, supporters).subquery().select()))


def _message(event):
    """(notification kind, message, url, e-mail subject, why the person gets it)."""
    end = format_datetime(event.ends_at, "dd.MM.yyyy, HH:mm") if event.ends_at else ""
    city = current_app.config["CITY_NAME"]
    if event.kind == Phase.COLLECTION and event.edge == START:
        return ("phase.collection.started",
                _("Die Ideensammlung für den Klima-Aktionsplan hat begonnen. Bis zum %(end)s Uhr können Sie "
                  "Ihre Ideen für den Klimaschutz in %(city)s einreichen.", end=end, city=city),
                url_for("ideas.create"), _("Die Ideensammlung hat begonnen"),
                _("Sie erhalten diese Nachricht, weil Sie ein Konto auf der Beteiligungsplattform haben."))
    if event.kind == Phase.SUPPORT and event.edge == START:
        return ("phase.support.started",
                _("Die Unterstützungsphase hat begonnen. Bis zum %(end)s Uhr können Sie die Ideen "
                  "unterstützen, die Ihnen am wichtigsten sind.", end=end),
                url_for("ideas.index"), _("Die Unterstützungsphase hat begonnen"),
                _("Sie erhalten diese Nachricht, weil Sie ein Konto auf der Beteiligungsplattform haben."))
    if event.kind == Phase.COLLECTION:
        return ("phase.collection.ended",
                _("Die Ideensammlung ist beendet. Danke für Ihre Ideen! Die Verwaltung sichtet jetzt alle "
                  "Beiträge und antwortet auf jede Idee; Sie werden benachrichtigt, sobald es zu Ihrer Idee "
                  "Neuigkeiten gibt."),
                url_for("ideas.mine"), _("Die Ideensammlung ist beendet"),
                _("Sie erhalten diese Nachricht, weil Sie eine Idee eingereicht haben."))
    return ("phase.support.ended",
            _("Die Unterstützungsphase ist beendet. Danke fürs Mitmachen! Die Verwaltung wertet die Ideen jetzt "
              "aus; Sie werden benachrichtigt, sobald es zu Ihren Ideen Neuigkeiten gibt."),
            url_for("ideas.index"), _("Die Unterstützungsphase ist beendet"),
            _("Sie erhalten diese Nachricht, weil Sie eine Idee eingereicht oder unterstützt haben."))


def _send(event):
    """Notify every recipient of `event`, batch by batch; returns how many."""
    kind, message, url, subject, why = _message(event)
    recipients = _recipients(event)
    sent, last_id = 0, 0
    while True:
        batch = db.session.scalars(recipients.where(User.id > last_id).order_by(User.id).limit(BATCH_SIZE)).all()
        if not batch:
            return sent
        for user in batch:
            notify(user, kind, message, url, subject=subject, mail_template="mail/phase.txt", why=why)
        sent += len(batch)
        last_id = batch[-1].id
        db.session.flush()
        db.session.expunge_all()  # written already; keeps memory flat for large cities


def announce_phases(now=None):
    """Announce every start and end that is due, each exactly once; returns the number
    of notifications. Needs a request context (URLs in the messages and e-mails)."""
    now = now or utcnow()
    total = 0
    for event in due_events(now):
        try:
            if not claim(event, now):
                db.session.rollback()
                continue
            if _is_stale(event, now):
                log.info("phase %s %s at %s is too old to announce; marked as done", event.kind, event.edge,
                         event.at)
                count = 0
            else:
                count = _send(event)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        log.info("phase %s %s announced to %d people", event.kind, event.edge, count)
        total += count
    return total


@job(minutes=1)
def announce_phase_changes(app):
    # A request context, so url_for works without SERVER_NAME (messages keep relative
    # URLs; e-mails use SERVER_NAME when it is set).
    with app.test_request_context("/"):
        try:
            announce_phases()
        finally:
            db.session.remove()
