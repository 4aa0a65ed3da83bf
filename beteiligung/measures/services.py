"""Creating measures and linking ideas to them, with notifications to the people behind the ideas."""
import re

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..audit.services import record
from ..extensions import db
from ..ideas import services as idea_services
from ..ideas.models import TEXT_MAX, Idea, Status
from ..ideas.services import IdeaError, clean_text
from ..notifications.services import notify
from .models import REASON_MAX, TITLE_MAX, IdeaMeasure, Measure

DESCRIPTION_MAX = 10_000
_NUMBER = re.compile(r"^M-(\d+)\.(\d+)$")


def next_number(sector):
    """The next free number in a field of action: M-<position>.<serial>, e.g. M-4.3."""
    prefix = f"M-{sector.position}."
    numbers = db.session.scalars(select(Measure.number).where(Measure.number.like(prefix + "%"))).all()
    serials = [int(match.group(2)) for match in map(_NUMBER.match, numbers) if match]
    return f"{prefix}{max(serials, default=0) + 1}"


def create_measure(actor, *, title, sector, description=""):
    title, description = clean_text(title), clean_text(description)
    if not title:
        raise IdeaError(_("Bitte geben Sie einen Titel für die Maßnahme an."), "title")
    if len(title) > TITLE_MAX:
        raise IdeaError(_("Der Titel darf höchstens %(max)d Zeichen lang sein.", max=TITLE_MAX), "title")
    if len(description) > DESCRIPTION_MAX:
        raise IdeaError(_("Die Beschreibung darf höchstens %(max)d Zeichen lang sein.", max=DESCRIPTION_MAX),
                        "description")
    if sector is None:
        raise IdeaError(_("Bitte wählen Sie ein Handlungsfeld."), "sector")
    same = db.session.scalar(select(Measure).where(func.lower(Measure.title) == title.lower()))
    if same is not None:  # also catches a double submit
        raise IdeaError(_("Eine Maßnahme mit diesem Titel gibt es bereits: %(number)s.", number=same.number),
                        "title")
    measure = Measure(number=next_number(sector), title=title, sector=sector, description=description,
                      created_by_id=getattr(actor, "id", None))
    db.session.add(measure)
    db.session.flush()
    record("measure.created", measure, actor=actor, new={"number": measure.number, "title": title,
                                                         "sector": sector.code})
    return measure


def check_reason(reason):
    reason = clean_text(reason)
    if not reason:
        raise IdeaError(_("Bitte begründen Sie die Zuordnung; die Begründung ist öffentlich."), "reason")
    if len(reason) > REASON_MAX:
        raise IdeaError(_("Die Begründung darf höchstens %(max)d Zeichen lang sein.", max=REASON_MAX), "reason")
    return reason


def link_ideas(measure, ideas, actor, reason, *, decision=None):
    """Link ideas to a measure with a public reason; returns the ideas that were newly linked.

    Ideas still waiting for an answer move to "fließt in Maßnahme ein" with the reason
    as public answer, which notifies author and supporters; ideas that already had an
    answer keep their status and their author gets a notification about the link.
    """
    reason = check_reason(reason)
    if not ideas:
        raise IdeaError(_("Bitte wählen Sie mindestens eine Idee aus."), "ids")
    hidden = [idea.id for idea in ideas if idea.is_hidden]
    if hidden:
        raise IdeaError(_("Ausgeblendete Ideen können keiner Maßnahme zugeordnet werden: %(ids)s",
                          ids=", ".join(map(str, hidden))), "ids")
    linked_before = set(db.session.scalars(select(IdeaMeasure.idea_id).where(
        IdeaMeasure.measure_id == measure.id, IdeaMeasure.idea_id.in_([idea.id for idea in ideas]))))
    new = [idea for idea in ideas if idea.id not in linked_before]
    for idea in new:
        db.session.add(IdeaMeasure(idea_id=idea.id, measure_id=measure.id, reason=reason,
                                   decision_id=getattr(decision, "id", None), linked_by_id=getattr(actor, "id", None)))
        record("idea.linked_to_measure", idea, actor=actor, new={"measure": measure.number},
               details={"decision_id": getattr(decision, "id", None)}, reason=reason)
        _tell_about_link(idea, measure, actor, reason)
    db.session.flush()
    measure.idea_count = db.session.scalar(select(func.count(IdeaMeasure.id))
                                           .where(IdeaMeasure.measure_id == measure.id))
    return new


def _tell_about_link(idea, measure, actor, reason):
    if idea.status in (Status.SUBMITTED.value, Status.IN_REVIEW.value):
        answer = _("Ihre Idee fließt in die Maßnahme %(number)s „%(title)s“ des Klimaschutzplans ein. %(reason)s",
                   number=measure.number, title=measure.title, reason=reason)
        idea_services.change_status(idea, actor, Status.IN_MEASURE, answer[:TEXT_MAX])
    elif idea.author is not None:
        notify(idea.author, "idea.measure",
               _("Ihre Idee „%(title)s“ wurde der Maßnahme %(number)s „%(measure)s“ zugeordnet.",
                 title=idea.title, number=measure.number, measure=measure.title),
               url_for("measures.detail", measure_id=measure.id), subject=_("Ihre Idee in einer Maßnahme"))


def linked_ideas(measure):
    """The ideas behind a measure, most supported first, with the link: [(Idea, IdeaMeasure)]."""
    return db.session.execute(
        select(Idea, IdeaMeasure).join(IdeaMeasure, IdeaMeasure.idea_id == Idea.id)
        .where(IdeaMeasure.measure_id == measure.id, Idea.hidden_at.is_(None))
        .order_by((Idea.support_count + Idea.dot_votes).desc(), Idea.id)
    ).all()


@idea_services.measure_provider
def _measures_of_ideas(idea_ids):
    links = {}
    if not idea_ids:
        return links
    rows = db.session.execute(
        select(IdeaMeasure.idea_id, Measure.id, Measure.number, Measure.title)
        .join(Measure, Measure.id == IdeaMeasure.measure_id)
        .where(IdeaMeasure.idea_id.in_(idea_ids)).order_by(Measure.number)
    )
    for row in rows:
        links.setdefault(row.idea_id, []).append({
            "id": row.id, "number": row.number, "title": row.title,
            "url": url_for("measures.detail", measure_id=row.id)})
    return links

