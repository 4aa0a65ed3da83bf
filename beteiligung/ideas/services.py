"""What can happen to ideas: writing, supporting, commenting, reporting, moderating
and answering. Views, the API, the importer and the demo all go through here, so the
rules hold everywhere. Functions raise IdeaError with a German message and leave
committing to the caller.
"""
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from ..audit.services import record
from ..auth.models import User
from ..extensions import db
from ..models import isoformat, utcnow
from ..notifications.services import notify
from .models import (COMMENT_MAX, TEXT_MAX, TITLE_MAX, Comment, District, Idea, Phase, Report, ReportReason,
                     Sector, Source, Status, StatusChange, Support, PHASE_LABELS)

DEFAULT_SECTORS = [
    ("wohngebaeude", "Wohngebäude und Quartiere",
     "Sanierung und Heizung von Wohnhäusern, Quartierskonzepte, Beratung von Eigentümern und Mietern.",
     "Dämmung, Sanierung, Heizung, Wärmepumpe, Mieter, Vermieter, Wohnung, Quartier, Altbau, Plattenbau"),
    ("unternehmen", "Unternehmen",
     "Energieeffizienz und Klimaschutz in Industrie, Gewerbe, Handel und Dienstleistungen.",
     "Unternehmen, Betrieb, Firma, Gewerbe, Handwerk, Industrie, Abwärme, Handel, Arbeitgeber"),
    ("verwaltung", "Kommunale Verwaltung",
     "Eigene Gebäude, Fuhrpark, Beschaffung und Organisation der Stadtverwaltung und ihrer Betriebe.",
     "Stadtverwaltung, Rathaus, Schule, Fuhrpark, Beschaffung, Straßenbeleuchtung, Stadtrat, Kita"),
    ("mobilitaet", "Mobilität",
     "Rad- und Fußverkehr, Bus und Straßenbahn, Autoverkehr, Parken, Lieferverkehr, Elektromobilität.",
     "Radweg, Fahrrad, Straßenbahn, Bus, ÖPNV, Parkplatz, Auto, Tempo, Gehweg, Ladesäule, Carsharing"),
    ("energie", "Energieversorgung",
     "Erzeugung und Verteilung von Strom und Wärme: Photovoltaik, Wind, Fernwärme, Speicher, Netze.",
     "Photovoltaik, Solar, Windkraft, Fernwärme, Stadtwerke, Strom, Speicher, Netz, Biogas, Balkonkraftwerk"),
    ("uebergreifend", "Übergreifend",
     "Was in keines der Handlungsfelder passt: Bildung, Ernährung, Konsum, Grünflächen, Bewusstsein.",
     "Bildung, Schule, Ernährung, Konsum, Bäume, Grünflächen, Kampagne, Müll, Reparatur, Bewusstsein"),
]

# Field of action -> the BISKO sector its measures save in (see Sector.bisko_sector; "stationaer":
# spread over the stationary sectors; none: over all sectors).
DEFAULT_BISKO_SECTORS = {"wohngebaeude": "private_haushalte", "unternehmen": "ghd",
                         "verwaltung": "kommunale_einrichtungen", "mobilitaet": "verkehr", "energie": "stationaer"}


class IdeaError(Exception):
    """A rule was broken; `message` is German and safe to show, `field` names the input."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotPermitted(IdeaError):
    """The person may not write at all (not signed in, or blocked): 403 in the API."""


class PhaseClosed(IdeaError):
    """The phase for this action is closed: 409 in the API."""


# --- reference data ------------------------------------------------------------------

def ensure_default_sectors():
    """Add the default fields of action that are missing (by code)."""
    existing = set(db.session.scalars(select(Sector.code)))
    for position, (code, name, description, seeds) in enumerate(DEFAULT_SECTORS, start=1):
        if code not in existing:
            db.session.add(Sector(code=code, name=name, description=description, seed_terms=seeds,
                                  position=position, bisko_sector=DEFAULT_BISKO_SECTORS.get(code)))
    db.session.flush()


def active_sectors():
    return db.session.scalars(select(Sector).where(Sector.active).order_by(Sector.position, Sector.name)).all()


def active_districts():
    return db.session.scalars(select(District).where(District.active)
                              .order_by(District.position, District.name)).all()


def _lookup(model, value):
    """A sector or district by code or (case-insensitive) name; None if unknown."""
    value = (value or "").strip()
    if not value or "\x00" in value:  # PostgreSQL refuses NUL in text
        return None
    found = db.session.scalar(
        select(model).where((model.code == value.lower()) | (func.lower(model.name) == value.lower()))
    )
    if found is None:  # SQLite's lower() leaves umlauts alone ("Übergreifend"); the lists are short
        wanted = value.casefold()
        found = next((row for row in db.session.scalars(select(model)) if row.name.casefold() == wanted), None)
    return found


def find_sector(value):
    return _lookup(Sector, value)


def find_district(value):
    return _lookup(District, value)


# --- phases --------------------------------------------------------------------------

def get_phase(kind):
    return db.session.scalar(select(Phase).where(Phase.kind == kind))


def phase_open(kind, now=None):
    phase = get_phase(kind)
    return phase is not None and phase.is_open(now)


def comments_open(now=None):
    """Discussion runs while ideas are collected or supported."""
    return phase_open(Phase.COLLECTION, now) or phase_open(Phase.SUPPORT, now)


def set_phase(kind, starts_at, ends_at, *, actor=None, now=None):
    """Set (or clear, with two Nones) the dates of a phase; returns None if nothing changed.

    A moved start or end that lies in the future is announced again by the phase
    job (ideas/jobs.py); a correction of a date that has already passed is not.
    """
    if kind not in PHASE_LABELS:
        raise IdeaError(_("Unbekannte Phase."))
    if (starts_at is None) != (ends_at is None):
        raise IdeaError(_("Bitte geben Sie Beginn und Ende an oder lassen Sie beide leer."),
                        "ends_at" if ends_at is None else "starts_at")
    if starts_at and ends_at and ends_at <= starts_at:
        raise IdeaError(_("Das Ende muss nach dem Beginn liegen."), "ends_at")
    now = now or utcnow()
    phase = get_phase(kind)
    if phase is None:
        phase = Phase(kind=kind)
        db.session.add(phase)
    elif phase.starts_at == starts_at and phase.ends_at == ends_at:
        return None
    old = {"starts_at": isoformat(phase.starts_at), "ends_at": isoformat(phase.ends_at)}
    if phase.starts_at != starts_at and (starts_at is None or starts_at > now):
        phase.start_notified_at = None
    if phase.ends_at != ends_at and (ends_at is None or ends_at > now):
        phase.end_notified_at = None
    phase.starts_at, phase.ends_at = starts_at, ends_at
    db.session.flush()
    record("phase.changed", phase, actor=actor, object_type="phase",
           old=old, new={"starts_at": isoformat(starts_at), "ends_at": isoformat(ends_at)})
    return phase



# --- writing ideas ---------------------------------------------------------------------

def _ensure_may_write(user):
    if user is None or not user.is_authenticated:
        raise NotPermitted(_("Bitte melden Sie sich an."))
    if user.is_blocked:
        raise NotPermitted(_("Ihr Konto ist für Beiträge gesperrt. Grund: %(reason)s",
                          reason=user.blocked_reason or _("nicht angegeben")))


def clean_text(value):
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_fields(title, text):
    if not title:
        raise IdeaError(_("Bitte geben Sie einen Titel an."), "title")
    if len(title) > TITLE_MAX:
        raise IdeaError(_("Der Titel darf höchstens %(max)d Zeichen lang sein.", max=TITLE_MAX), "title")
    if not text:
        raise IdeaError(_("Bitte beschreiben Sie Ihre Idee."), "text")
    if len(text) > TEXT_MAX:
        raise IdeaError(_("Der Text darf höchstens %(max)d Zeichen lang sein.", max=TEXT_MAX), "text")


def _check_point(latitude, longitude):
    if (latitude is None) != (longitude is None):
        raise IdeaError(_("Bitte geben Sie Breite und Länge an oder keines von beiden."), "latitude")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise IdeaError(_("Der Punkt auf der Karte liegt außerhalb des gültigen Bereichs."), "latitude")


def create_idea(author, title, text, *, sector=None, district, latitude=None, longitude=None,
                source=Source.ONLINE, entered_by=None, event_name=None, facilitator=None, dot_votes=0,
                created_at=None, check_phase=True, form_token=None, audit=True, flush=True):
    """Add an idea. Online ideas need an author and an open collection phase; analog
    ideas are entered by staff (`entered_by`) with their event, facilitator and dots.
    `form_token`: the one-time token of the entry form, kept in the audit entry so a
    resubmitted form is recognised (see `idea_entered_with_token`). `flush=False` (bulk
    imports) leaves the insert to the caller's next flush, so ids come later."""
    source = Source(source)
    title, text = clean_text(title), clean_text(text)
    _check_fields(title, text)
    _check_point(latitude, longitude)
    if district is None:
        raise IdeaError(_("Bitte wählen Sie einen Stadtteil."), "district")
    if source is Source.ONLINE:
        _ensure_may_write(author)
        if check_phase and not phase_open(Phase.COLLECTION):
            raise PhaseClosed(_("Die Ideensammlung ist derzeit geschlossen."))
    if dot_votes is None or dot_votes < 0:
        raise IdeaError(_("Die Zahl der Klebepunkte darf nicht negativ sein."), "dot_votes")
    idea = Idea(
        title=title, text=text, sector=sector, district=district, latitude=latitude, longitude=longitude,
        author=author if source is Source.ONLINE else None, entered_by=entered_by, source=source.value,
        event_name=(event_name or "").strip() or None, facilitator=(facilitator or "").strip() or None,
        dot_votes=dot_votes, status=Status.SUBMITTED.value,
    )
    if created_at is not None:
        idea.created_at = idea.updated_at = created_at
    db.session.add(idea)
    if flush or audit:
        db.session.flush()
    if entered_by is not None and audit:  # audit=False: the importer records one entry for the whole file
        record("idea.entered", idea, actor=entered_by,
               new={"source": source.value, "event_name": idea.event_name, "dot_votes": dot_votes},
               details={"form_token": form_token} if form_token else None)
    return idea


def edit_idea(idea, user, title, text, *, sector, district, latitude=None, longitude=None):
    """The author edits the idea; allowed until staff start the review."""
    _ensure_may_write(user)
    if not idea.editable_by(user):
        raise IdeaError(_("Diese Idee kann nicht mehr bearbeitet werden, weil die Verwaltung sie bereits prüft."))
    title, text = clean_text(title), clean_text(text)
    _check_fields(title, text)
    _check_point(latitude, longitude)
    if district is None:
        raise IdeaError(_("Bitte wählen Sie einen Stadtteil."), "district")
    if idea.sector_id != getattr(sector, "id", None):
        idea.sector_confirmed = False
    idea.title, idea.text, idea.sector, idea.district = title, text, sector, district
    idea.latitude, idea.longitude = latitude, longitude
    idea.edited_at = utcnow()
    return idea


# --- supports ---------------------------------------------------------------------------

def _insert_ignoring_duplicates(values):
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(Support.__table__).values(**values)
                 .on_conflict_do_nothing(index_elements=["idea_id", "user_id"])
                 .returning(Support.__table__.c.id))
    return len(db.session.execute(statement).all())


def check_may_support(idea, user):
    _ensure_may_write(user)
    if idea.is_hidden:
        raise IdeaError(_("Diese Idee ist ausgeblendet und kann nicht unterstützt werden."))
    if idea.status == Status.MERGED.value:
        raise IdeaError(_("Diese Idee wurde mit einer anderen zusammengeführt; bitte unterstützen Sie diese."))
    if not phase_open(Phase.SUPPORT):
        raise PhaseClosed(_("Die Unterstützungsphase ist derzeit geschlossen."))


def add_support(idea, user):
    """Support an idea once. Returns True if a support was added, False if it existed.

    The unique constraint decides under concurrency: the insert is skipped on a
    conflict, and the counter moves only with a row that was really inserted.
    """
    check_may_support(idea, user)
    inserted = _insert_ignoring_duplicates({"idea_id": idea.id, "user_id": user.id, "created_at": utcnow()})
    if inserted:
        db.session.execute(update(Idea).where(Idea.id == idea.id)
                           .values(support_count=Idea.support_count + 1)
                           .execution_options(synchronize_session=False))
    return bool(inserted)


def remove_support(idea, user):
    """Withdraw a support. Returns True if one was removed."""
    _ensure_may_write(user)
    if not phase_open(Phase.SUPPORT):
        raise PhaseClosed(_("Die Unterstützungsphase ist derzeit geschlossen."))
    removed = db.session.execute(
        delete(Support).where(Support.idea_id == idea.id, Support.user_id == user.id)
    ).rowcount
    if removed:
        db.session.execute(update(Idea).where(Idea.id == idea.id)
                           .values(support_count=Idea.support_count - removed)
                           .execution_options(synchronize_session=False))
    return bool(removed)


def supported_ids(user, idea_ids):
    """The ids among `idea_ids` that `user` supports (one query)."""
    if not getattr(user, "is_authenticated", False) or not idea_ids:
        return set()
    return set(db.session.scalars(
        select(Support.idea_id).where(Support.user_id == user.id, Support.idea_id.in_(list(idea_ids)))
    ))


# --- comments -----------------------------------------------------------------------------

DUPLICATE_WINDOW = timedelta(minutes=5)


def _one_at_a_time_per_author(author):
    """Hold a lock on the author's account until the request commits, so that two requests of
    one author that check for a duplicate and then write run one after the other.

    PostgreSQL: the row lock FOR NO KEY UPDATE, which does not block rows that point at the
    author (a notification to them inserted by someone else's comment takes FOR KEY SHARE;
    with a plain FOR UPDATE, two people commenting on each other's ideas deadlocked).
    SQLite has no row locks: a write that changes nothing starts the transaction and takes
    the database's write lock, and the duplicate check after it reads what was committed.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text(f"UPDATE {User.__table__.name} SET id = id WHERE id = :id"), {"id": author.id})
    else:
        db.session.execute(select(User.id).where(User.id == author.id).with_for_update(key_share=True))


def recent_duplicate_idea(author, title, text):
    """The idea `author` submitted with the same title and text a moment ago (a double submit).

    Of the same form sent twice at once, the second waits and then finds the first idea."""
    _one_at_a_time_per_author(author)
    return db.session.scalar(select(Idea).where(
        Idea.author_id == author.id, Idea.title == clean_text(title), Idea.text == clean_text(text),
        Idea.created_at >= utcnow() - DUPLICATE_WINDOW).order_by(Idea.id.desc()).limit(1))


def recent_duplicate_comment(idea, author, text):
    """The comment `author` wrote on `idea` with the same text a moment ago (a double submit).

    Of the same form sent twice at once, the second waits and then finds the first comment.
    """
    _one_at_a_time_per_author(author)
    return db.session.scalar(select(Comment).where(
        Comment.idea_id == idea.id, Comment.author_id == author.id, Comment.text == clean_text(text),
        Comment.created_at >= utcnow() - DUPLICATE_WINDOW).order_by(Comment.id.desc()).limit(1))


def add_comment(idea, user, text, parent=None, *, official=False):
    _ensure_may_write(user)
    text = clean_text(text)
    if not text:
        raise IdeaError(_("Bitte schreiben Sie einen Kommentar."), "text")
    if len(text) > COMMENT_MAX:
        raise IdeaError(_("Ein Kommentar darf höchstens %(max)d Zeichen lang sein.", max=COMMENT_MAX), "text")
    if idea.is_hidden:
        raise IdeaError(_("Diese Idee ist ausgeblendet und kann nicht kommentiert werden."))
    is_staff = user.role in ("staff", "admin")
    if not is_staff and not comments_open():
        raise PhaseClosed(_("Die Diskussion ist derzeit geschlossen."))
    if parent is not None:
        if parent.idea_id != idea.id or parent.is_hidden:
            raise IdeaError(_("Auf diesen Kommentar kann nicht geantwortet werden."), "parent_id")
        if parent.parent_id is not None:
            parent = parent.parent  # one level of replies: answer the thread
    comment = Comment(idea=idea, author=user, text=text, parent=parent, is_official=official and is_staff)
    db.session.add(comment)
    db.session.flush()
    db.session.execute(update(Idea).where(Idea.id == idea.id).values(comment_count=Idea.comment_count + 1)
                       .execution_options(synchronize_session=False))
    if idea.author is not None and idea.author_id != user.id:
        notify(idea.author, "idea.commented",
               _("%(name)s hat Ihre Idee „%(title)s“ kommentiert.", name=user.public_name, title=idea.title),
               url_for("ideas.detail", idea_id=idea.id, _anchor=f"kommentar-{comment.id}"))
    return comment


# --- reports and moderation -----------------------------------------------------------------

def _target_of(report_or_obj):
    return "idea" if isinstance(report_or_obj, Idea) else "comment"


def report(user, target, reason, note=None):
    """Report an idea or a comment once; hides it automatically at the threshold."""
    _ensure_may_write(user)
    reason = ReportReason(reason)
    note = (note or "").strip()[:500] or None
    kind = _target_of(target)
    if target.is_hidden:
        raise IdeaError(_("Dieser Beitrag ist bereits ausgeblendet."))
    values = {"idea_id": target.id} if kind == "idea" else {"comment_id": target.id}
    exists = db.session.scalar(select(Report.id).where(
        Report.reporter_id == user.id,
        (Report.idea_id == target.id) if kind == "idea" else (Report.comment_id == target.id)))
    if exists:
        raise IdeaError(_("Sie haben diesen Beitrag bereits gemeldet."))
    db.session.add(Report(reporter_id=user.id, reason=reason.value, note=note, **values))
    model = type(target)
    db.session.execute(update(model).where(model.id == target.id).values(report_count=model.report_count + 1)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(target)
    threshold = current_app.config["REPORTS_TO_HIDE"]
    if threshold and target.report_count >= threshold and not target.is_hidden:
        hide(target, None, _("Automatisch ausgeblendet nach %(n)d Meldungen; die Moderation prüft den Beitrag.",
                             n=target.report_count), resolve=False)
    return target


def _open_reports(target):
    column = Report.idea_id if isinstance(target, Idea) else Report.comment_id
    return select(Report).where(column == target.id, Report.resolved_at.is_(None))


def _resolve_reports(target, actor, resolution):
    for open_report in db.session.scalars(_open_reports(target)):
        open_report.resolved_at = utcnow()
        open_report.resolved_by_id = getattr(actor, "id", None)
        open_report.resolution = resolution
    target.report_count = 0


def _author_of(target):
    return target.author


def _url_of(target):
    if isinstance(target, Idea):
        return url_for("ideas.detail", idea_id=target.id)
    return url_for("ideas.detail", idea_id=target.idea_id, _anchor=f"kommentar-{target.id}")


def hide(target, actor, reason, *, resolve=True):
    """Hide an idea or comment with a reason the author sees; None as actor: automatic."""
    reason = (reason or "").strip()
    if not reason:
        raise IdeaError(_("Bitte geben Sie einen Grund an; die Autorin oder der Autor sieht ihn."), "reason")
    if target.is_hidden:
        raise IdeaError(_("Der Beitrag ist bereits ausgeblendet."))
    target.hidden_at = utcnow()
    target.hidden_reason = reason
    if resolve:
        _resolve_reports(target, actor, "hidden")
    if isinstance(target, Comment):
        db.session.execute(update(Idea).where(Idea.id == target.idea_id, Idea.comment_count > 0)
                           .values(comment_count=Idea.comment_count - 1).execution_options(synchronize_session=False))
    kind = _target_of(target)
    record(f"{kind}.hidden", target, actor=actor, reason=reason, details={"automatic": actor is None})
    label = _("Ihre Idee") if kind == "idea" else _("Ihr Kommentar")
    notify(_author_of(target), f"{kind}.hidden",
           _("%(what)s wurde von der Moderation ausgeblendet. Grund: %(reason)s", what=label, reason=reason),
           _url_of(target), subject=_("Ihr Beitrag wurde ausgeblendet"))
    return target


def restore(target, actor, reason):
    reason = (reason or "").strip()
    if not reason:
        raise IdeaError(_("Bitte geben Sie einen Grund an."), "reason")
    if not target.is_hidden:
        raise IdeaError(_("Der Beitrag ist nicht ausgeblendet."))
    target.hidden_at = None
    target.hidden_reason = None
    _resolve_reports(target, actor, "kept")
    if isinstance(target, Comment):
        db.session.execute(update(Idea).where(Idea.id == target.idea_id)
                           .values(comment_count=Idea.comment_count + 1).execution_options(synchronize_session=False))
    kind = _target_of(target)
    record(f"{kind}.restored", target, actor=actor, reason=reason)
    label = _("Ihre Idee") if kind == "idea" else _("Ihr Kommentar")
    notify(_author_of(target), f"{kind}.restored",
           _("%(what)s ist wieder sichtbar. Begründung: %(reason)s", what=label, reason=reason), _url_of(target))
    return target


def dismiss_reports(target, actor, reason=None):
    """The moderator keeps the content: open reports are closed."""
    if target.is_hidden:
        raise IdeaError(_("Der Beitrag ist ausgeblendet. Soll er sichtbar sein, blenden Sie ihn mit einer "
                          "Begründung wieder ein."))
    if not db.session.scalar(_open_reports(target).limit(1)):
        raise IdeaError(_("Zu diesem Beitrag gibt es keine offenen Meldungen."))
    _resolve_reports(target, actor, "kept")
    record(f"{_target_of(target)}.reports_dismissed", target, actor=actor, reason=(reason or "").strip() or None)


def confirm_hidden(target, actor, reason):
    """The moderator agrees with an automatic hiding: the open reports are closed as
    "hidden", and the author is told the moderator's reason instead of the automatic one."""
    reason = (reason or "").strip()
    if not reason:
        raise IdeaError(_("Bitte geben Sie einen Grund an; die Autorin oder der Autor sieht ihn."), "reason")
    if not target.is_hidden:
        raise IdeaError(_("Der Beitrag ist nicht ausgeblendet."))
    if not db.session.scalar(_open_reports(target).limit(1)):
        raise IdeaError(_("Über diese Ausblendung wurde bereits entschieden."))
    old_reason = target.hidden_reason
    target.hidden_reason = reason
    _resolve_reports(target, actor, "hidden")
    kind = _target_of(target)
    record(f"{kind}.hide_confirmed", target, actor=actor, old={"hidden_reason": old_reason},
           new={"hidden_reason": reason}, reason=reason)
    label = _("Ihre Idee") if kind == "idea" else _("Ihr Kommentar")
    notify(_author_of(target), f"{kind}.hidden",
           _("%(what)s bleibt nach Prüfung durch die Moderation ausgeblendet. Grund: %(reason)s",
             what=label, reason=reason),
           _url_of(target), subject=_("Ihr Beitrag bleibt ausgeblendet"))
    return target


def hide_or_confirm(target, actor, reason):
    """A moderator's "hide": hides visible content, or confirms an automatic hiding
    that still waits for a decision."""
    if target.is_hidden and db.session.scalar(_open_reports(target).limit(1)):
        return confirm_hidden(target, actor, reason)
    return hide(target, actor, reason)


def block_user(person, actor, reason):
    reason = (reason or "").strip()
    if not reason:
        raise IdeaError(_("Bitte geben Sie einen Grund an; die Person sieht ihn."), "reason")
    if person.id == getattr(actor, "id", None):
        raise IdeaError(_("Sie können sich nicht selbst sperren."))
    if person.role in ("staff", "admin"):
        raise IdeaError(_("Konten der Verwaltung können nicht gesperrt werden; ändern Sie zuerst die Rolle."))
    if person.is_blocked:
        raise IdeaError(_("Dieses Konto ist bereits gesperrt."))
    person.blocked_at = utcnow()
    person.blocked_reason = reason
    record("user.blocked", person, actor=actor, reason=reason)
    notify(person, "user.blocked", _("Ihr Konto wurde für Beiträge gesperrt. Grund: %(reason)s", reason=reason),
           subject=_("Ihr Konto wurde gesperrt"))


def unblock_user(person, actor, reason):
    reason = (reason or "").strip()
    if not reason:
        raise IdeaError(_("Bitte geben Sie einen Grund an."), "reason")
    if not person.is_blocked:
        raise IdeaError(_("Dieses Konto ist nicht gesperrt."))
    person.blocked_at = None
    person.blocked_reason = None
    record("user.unblocked", person, actor=actor, reason=reason)
    notify(person, "user.unblocked", _("Ihr Konto ist wieder freigeschaltet."))


# --- status and answers ------------------------------------------------------------------------

def change_status(idea, actor, status, answer=None, *, merged_into=None):
    """Set a new status with its public answer; tells the author and the supporters."""
    status = Status(status)
    answer = clean_text(answer)
    if len(answer) > TEXT_MAX:
        raise IdeaError(_("Die Antwort darf höchstens %(max)d Zeichen lang sein.", max=TEXT_MAX), "answer")
    if status.needs_answer and not answer:
        raise IdeaError(_("Für den Status „%(status)s“ ist eine öffentliche Antwort nötig.", status=status.label),
                        "answer")
    if status is Status.SUBMITTED:
        raise IdeaError(_("Eine Idee kann nicht auf „eingereicht“ zurückgesetzt werden."), "status")
    if status is Status.MERGED:
        if merged_into is None:
            raise IdeaError(_("Bitte geben Sie an, mit welcher Idee diese zusammengeführt wird."), "merged_into")
        if merged_into.id == idea.id or merged_into.merged_into_id == idea.id:
            raise IdeaError(_("Eine Idee kann nicht mit sich selbst zusammengeführt werden."), "merged_into")
        if merged_into.status == Status.MERGED.value:
            raise IdeaError(_("Die Zielidee ist selbst zusammengeführt; wählen Sie die Idee, in der sie aufging."),
                            "merged_into")
        if merged_into.is_hidden:
            raise IdeaError(_("Die Zielidee ist ausgeblendet; wählen Sie eine öffentlich sichtbare Idee."),
                            "merged_into")
    elif merged_into is not None:
        raise IdeaError(_("Eine Zielidee gibt es nur beim Status „zusammengeführt“."), "merged_into")
    if status.value == idea.status and (answer or None) == idea.answer and merged_into is None:
        return None
    old_status = idea.status
    change = StatusChange(idea_id=idea.id, old_status=old_status, new_status=status.value, answer=answer or None,
                          merged_into_id=getattr(merged_into, "id", None), actor_id=getattr(actor, "id", None))
    db.session.add(change)
    idea.status = status.value
    idea.merged_into = merged_into
    if answer:
        idea.answer = answer
        idea.answered_at = utcnow()
    record("idea.status_changed", idea, actor=actor, old={"status": old_status},
           new={"status": status.value, "merged_into": getattr(merged_into, "id", None)}, reason=answer or None)
    _tell_followers(idea, status, answer)
    return change


def _tell_followers(idea, status, answer):
    url = url_for("ideas.detail", idea_id=idea.id)
    if idea.author is not None:
        notify(idea.author, "idea.status",
               _("Ihre Idee „%(title)s“ hat einen neuen Status: %(status)s.", title=idea.title, status=status.label),
               url, subject=_("Neuigkeiten zu Ihrer Idee"), answer=answer)
    supporters = db.session.scalars(
        select(User).join(Support, Support.user_id == User.id)
        .where(Support.idea_id == idea.id, User.deleted_at.is_(None), User.id != (idea.author_id or 0))
    )
    for supporter in supporters:
        notify(supporter, "idea.status",
               _("Die Idee „%(title)s“, die Sie unterstützen, hat einen neuen Status: %(status)s.",
                 title=idea.title, status=status.label),
               url, subject=_("Neuigkeiten zu einer Idee, die Sie unterstützen"), answer=answer)


def bulk_change_status(ideas, actor, status, answer, *, merged_into=None):
    """Answer a selection of ideas at once; all or nothing."""
    if not ideas:
        raise IdeaError(_("Bitte wählen Sie mindestens eine Idee aus."), "ids")
    changes = []
    for idea in ideas:
        try:
            changes.append(change_status(idea, actor, status, answer, merged_into=merged_into))
        except IdeaError as error:
            raise IdeaError(_("Idee %(id)d: %(message)s", id=idea.id, message=error.message), error.field)
    return [c for c in changes if c is not None]


def assign_sector(idea, actor, sector):
    """Staff set the field of action; it then counts as confirmed (training data for the analysis)."""
    if idea.sector_id == getattr(sector, "id", None):
        if sector is not None and not idea.sector_confirmed:
            idea.sector_confirmed = True
            record("idea.sector_confirmed", idea, actor=actor, new={"sector": sector.code})
            return True
        return False
    old = idea.sector.code if idea.sector else None
    idea.sector = sector
    idea.sector_confirmed = sector is not None
    record("idea.sector_assigned", idea, actor=actor, old={"sector": old}, new={"sector": getattr(sector, "code", None)})
    return True


def set_dot_votes(idea, actor, dot_votes):
    if dot_votes is None or dot_votes < 0:
        raise IdeaError(_("Die Zahl der Klebepunkte darf nicht negativ sein."), "dot_votes")
    if dot_votes == idea.dot_votes:
        return False
    record("idea.dot_votes_changed", idea, actor=actor, old={"dot_votes": idea.dot_votes},
           new={"dot_votes": dot_votes})
    idea.dot_votes = dot_votes
    return True


def status_history(idea):
    return db.session.scalars(select(StatusChange).where(StatusChange.idea_id == idea.id)
                              .order_by(StatusChange.created_at, StatusChange.id)).all()


# --- analog input -------------------------------------------------------------------------------

def idea_entered_with_token(actor, token):
    """The id of the idea `actor` already saved with the one-time form token `token`, or None.

    The actor's account row is locked first (PostgreSQL), so two copies of the same form
    sent at the same moment are checked one after the other; call it in the transaction
    that then creates the idea.
    """
    from ..audit.models import AuditEntry

    if not token or actor is None:
        return None
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    object_id = db.session.scalar(
        select(AuditEntry.object_id).where(AuditEntry.action == "idea.entered", AuditEntry.actor_id == actor.id,
                                           AuditEntry.details["form_token"].as_string() == token)
        .order_by(AuditEntry.id).limit(1))
    return int(object_id) if object_id is not None else None


# --- answer templates -------------------------------------------------------------------------------

ANSWER_TEMPLATE_TITLE_MAX = 120


def answer_templates():
    """All answer templates, ordered by title."""
    from .models import AnswerTemplate

    return db.session.scalars(select(AnswerTemplate).order_by(func.lower(AnswerTemplate.title),
                                                              AnswerTemplate.id)).all()


def _check_answer_template(template, title, status, text):
    from .models import AnswerTemplate

    title, text = clean_text(title), clean_text(text)
    status = (status or "").strip() or None
    if not title:
        raise IdeaError(_("Bitte geben Sie der Vorlage einen Titel."), "title")
    if len(title) > ANSWER_TEMPLATE_TITLE_MAX:
        raise IdeaError(_("Der Titel darf höchstens %(max)d Zeichen lang sein.", max=ANSWER_TEMPLATE_TITLE_MAX),
                        "title")
    if not text:
        raise IdeaError(_("Bitte schreiben Sie den Text der Vorlage."), "text")
    if len(text) > TEXT_MAX:
        raise IdeaError(_("Der Text darf höchstens %(max)d Zeichen lang sein.", max=TEXT_MAX), "text")
    if status is not None and status not in {s.value for s in Status}:
        raise IdeaError(_("Unbekannter Status."), "status")
    others = select(AnswerTemplate.title)  # a few dozen at most; compared here, so "Ä" and "ä" clash everywhere
    if template is not None and template.id is not None:
        others = others.where(AnswerTemplate.id != template.id)
    if any(other.casefold() == title.casefold() for other in db.session.scalars(others)):
        raise IdeaError(_("Es gibt bereits eine Vorlage mit diesem Titel."), "title")
    return title, status, text


def _template_values(template):
    return {"title": template.title, "status": template.status, "text": template.text}


def create_answer_template(actor, title, text, status=None):
    from .models import AnswerTemplate

    title, status, text = _check_answer_template(None, title, status, text)
    template = AnswerTemplate(title=title, status=status, text=text)
    db.session.add(template)
    db.session.flush()
    record("answer_template.created", template, actor=actor, object_type="answer_template",
           new=_template_values(template))
    return template


def update_answer_template(template, actor, title, text, status=None):
    """Change a template; returns False if nothing changed."""
    title, status, text = _check_answer_template(template, title, status, text)
    before = _template_values(template)
    after = {"title": title, "status": status, "text": text}
    changed = [key for key in after if before[key] != after[key]]
    if not changed:
        return False
    template.title, template.status, template.text = title, status, text
    record("answer_template.changed", template, actor=actor, object_type="answer_template",
           old={key: before[key] for key in changed}, new={key: after[key] for key in changed})
    return True


def delete_answer_template(template, actor):
    """Delete a template; answers already given keep their text."""
    record("answer_template.deleted", template, actor=actor, object_type="answer_template",
           old=_template_values(template))
    db.session.delete(template)


def participation_figures():
    """Headline numbers for the start page, in one query."""
    visible = Idea.hidden_at.is_(None)
    row = db.session.execute(select(
        func.count(Idea.id), func.coalesce(func.sum(Idea.support_count), 0),
        func.coalesce(func.sum(Idea.comment_count), 0), func.coalesce(func.sum(Idea.dot_votes), 0),
        func.count(Idea.answered_at),
    ).where(visible)).one()
    return {"ideas": row[0], "supports": row[1], "comments": row[2], "dot_votes": row[3], "answered": row[4]}


# --- links to measures (filled in by the measures area) -----------------------------------------

_measure_providers = []


def measure_provider(function):
    """Register `function(idea_ids) -> {idea_id: [{"id", "number", "title", "url"}, ...]}`."""
    _measure_providers.append(function)
    return function


def measures_for(idea_ids):
    links = {}
    for provider in _measure_providers:
        for idea_id, measures in provider(list(idea_ids)).items():
            links.setdefault(idea_id, []).extend(measures)
    return links


# --- fields of action and districts (configured by admins) ----------------------------------

REFERENCE_NAME_MAX = 80
REFERENCE_TEXT_MAX = 2000
_REFERENCE_TAKEN = {
    "Sector": lambda: _("Ein Handlungsfeld mit diesem Namen gibt es bereits."),
    "District": lambda: _("Einen Stadtteil mit diesem Namen gibt es bereits."),
}


def _reference_name(model, name, exclude_id=None):
    """A cleaned, unique name (compared case-insensitively, also for umlauts)."""
    name = " ".join((name or "").split())
    if not name:
        raise IdeaError(_("Bitte geben Sie einen Namen an."), "name")
    if len(name) > REFERENCE_NAME_MAX:
        raise IdeaError(_("Der Name darf höchstens %(max)d Zeichen lang sein.", max=REFERENCE_NAME_MAX), "name")
    # The lists are short (a city has a few dozen districts), so compare in Python: SQLite's
    # lower() would not fold umlauts.
    for other_id, other_name in db.session.execute(select(model.id, model.name)):
        if other_id != exclude_id and other_name.casefold() == name.casefold():
            raise IdeaError(_REFERENCE_TAKEN[model.__name__](), "name")
    return name


def _reference_code(model, name):
    """A slug of the name that no other entry uses (codes stay stable after renaming)."""
    from .demo import slugify

    limit = model.__table__.c.code.type.length
    base = slugify(name)[:limit].strip("-") or model.__name__.lower()
    taken = set(db.session.scalars(select(model.code).where(model.code.like(f"{base[:limit - 4]}%"))))
    code, number = base, 1
    while code in taken:
        number += 1
        suffix = f"-{number}"
        code = base[:limit - len(suffix)].rstrip("-") + suffix
    return code


def _next_position(model):
    return (db.session.scalar(select(func.max(model.position))) or 0) + 1


def _seed_terms(value):
    terms, seen = [], set()
    for term in (value or "").replace("\n", ",").split(","):
        term = " ".join(term.split())
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    return ", ".join(terms)


def _apply_changes(obj, values):
    old, new = {}, {}
    for key, value in values.items():
        if getattr(obj, key) != value:
            old[key], new[key] = getattr(obj, key), value
            setattr(obj, key, value)
    return old, new


def _check_reference_texts(description, seed_terms, position):
    if len(description) > REFERENCE_TEXT_MAX:
        raise IdeaError(_("Die Beschreibung darf höchstens %(max)d Zeichen lang sein.", max=REFERENCE_TEXT_MAX),
                        "description")
    if len(seed_terms) > REFERENCE_TEXT_MAX:
        raise IdeaError(_("Die typischen Begriffe dürfen höchstens %(max)d Zeichen lang sein.",
                          max=REFERENCE_TEXT_MAX), "seed_terms")
    if position is not None and not 0 <= position <= 10000:
        raise IdeaError(_("Die Position muss eine Zahl zwischen 0 und 10000 sein."), "position")


def create_sector(actor, name, description="", seed_terms="", position=None, active=True):
    name = _reference_name(Sector, name)
    description, seed_terms = clean_text(description), _seed_terms(seed_terms)
    _check_reference_texts(description, seed_terms, position)
    sector = Sector(code=_reference_code(Sector, name), name=name, description=description,
                    seed_terms=seed_terms, position=_next_position(Sector) if position is None else position,
                    active=bool(active))
    db.session.add(sector)
    db.session.flush()
    record("sector.created", sector, actor=actor,
           new={"code": sector.code, "name": name, "position": sector.position, "active": sector.active})
    return sector


def update_sector(sector, actor, *, name, description, seed_terms, position, active):
    """Change a field of action; returns whether anything changed. Ideas keep it when it
    is deactivated; it is just no longer offered for new ones."""
    name = _reference_name(Sector, name, exclude_id=sector.id)
    description, seed_terms = clean_text(description), _seed_terms(seed_terms)
    _check_reference_texts(description, seed_terms, position)
    old, new = _apply_changes(sector, {"name": name, "description": description, "seed_terms": seed_terms,
                                       "position": sector.position if position is None else position,
                                       "active": bool(active)})
    if new:
        record("sector.changed", sector, actor=actor, old=old, new=new)
    return bool(new)


def create_district(actor, name):
    name = _reference_name(District, name)
    district = District(code=_reference_code(District, name), name=name, position=_next_position(District),
                        active=True)
    db.session.add(district)
    db.session.flush()
    record("district.created", district, actor=actor,
           new={"code": district.code, "name": name, "position": district.position})
    return district


def update_district(district, actor, *, name, active):
    """Rename or (de)activate a district; its code stays, so links and imports keep working."""
    name = _reference_name(District, name, exclude_id=district.id)
    active = bool(active)
    if district.active and not active:
        others = db.session.scalar(select(func.count(District.id))
                                   .where(District.active, District.id != district.id))
        if not others:
            raise IdeaError(_("Mindestens ein Stadtteil muss aktiv bleiben, sonst kann niemand eine Idee "
                              "einreichen."), "active")
    old, new = _apply_changes(district, {"name": name, "active": active})
    if new:
        record("district.changed", district, actor=actor, old=old, new=new)
    return bool(new)


def move_reference(entry, actor, direction):
    """Move a field of action or district one place up (-1) or down (+1) in its list.

    The positions are renumbered 1..n on the way, so equal positions cannot make a move
    ineffective. Returns False at the top or bottom of the list.
    """
    if direction not in (-1, 1):
        raise IdeaError(_("Unbekannte Richtung."))
    model = type(entry)
    ordered = db.session.scalars(select(model).order_by(model.position, model.name, model.id)).all()
    index = ordered.index(entry)
    other = index + direction
    if not 0 <= other < len(ordered):
        return False
    old_position = entry.position
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    record(f"{model.__name__.lower()}.moved", entry, actor=actor, old={"position": old_position},
           new={"position": entry.position})
    return True
