"""The public side of ideas: list, detail, writing, supporting, commenting, reporting."""
import secrets

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from ..access import allow, safe_next
from ..extensions import account_or_address, config_limit, db, limiter
from ..forms import attach_error, page_number
from ..roles import EVERYONE, SIGNED_IN
from ..text import plain_excerpt, render_markdown
from . import bp, services
from .forms import UNKNOWN_SECTOR, CommentForm, IdeaForm, ReportForm, SupportForm
from .models import SOURCE_LABELS, STATUS_LABELS, TEXT_MAX, Comment, Idea, Phase
from .queries import SORT_LABELS, build_query, parse_filters
from .services import IdeaError
from .similar import first_build_running, similar_ideas
from .transactions import retrying

PER_PAGE = 20




@bp.app_template_filter("markdown")
def _markdown_filter(value):
    return render_markdown(value)


@bp.app_template_filter("excerpt")
def _excerpt_filter(value, length=220):
    return plain_excerpt(value, length)


def visitor_seed():
    """A random number per visitor session: the random order stays stable while paging."""
    if "idea_seed" not in session:
        session["idea_seed"] = secrets.randbelow(2**31)
    return session["idea_seed"]


def _phases():
    phases = {phase.kind: phase for phase in db.session.scalars(select(Phase))}
    return phases.get(Phase.COLLECTION), phases.get(Phase.SUPPORT)


def _visible_idea_or_404(idea_id):
    idea = db.get_or_404(Idea, idea_id)
    if not idea.visible_to(current_user):
        abort(404)
    return idea


@bp.route("/")
@allow(EVERYONE)
def index():
    filters = parse_filters(request.args)
    query = build_query(filters, seed=visitor_seed())
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE,
                       error_out=False)
    supported = services.supported_ids(current_user, [idea.id for idea in page.items])
    collection, support = _phases()
    return render_template(
        "ideas/index.html", page=page, filters=filters, supported=supported,
        sectors=services.active_sectors(), districts=services.active_districts(),
        statuses=STATUS_LABELS, sources=SOURCE_LABELS, sorts=SORT_LABELS,
        collection=collection, support=support, support_form=SupportForm(),
    )


@bp.route("/<int:idea_id>")
@allow(EVERYONE)
def detail(idea_id):
    return _detail_page(_visible_idea_or_404(idea_id))


def _detail_page(idea, comment_form=None):
    """The idea page; `comment_form` is a refused comment to show again with its text."""
    comments = db.session.scalars(
        select(Comment).where(Comment.idea_id == idea.id).order_by(Comment.created_at, Comment.id)
    ).all()
    is_staff = current_user.is_authenticated and current_user.role in ("staff", "admin")
    threads, replies = [], {}
    for comment in comments:
        if comment.parent_id is None:
            threads.append(comment)
        else:
            replies.setdefault(comment.parent_id, []).append(comment)
    merged = db.session.scalars(select(Idea).where(Idea.merged_into_id == idea.id, Idea.hidden_at.is_(None))
                                .order_by(Idea.id)).all()
    collection, support = _phases()
    try:
        similar = [(other, score) for other, score in similar_ideas(idea.title, idea.text, limit=5,
                                                                    exclude={idea.id})]
    except Exception:  # the suggestions are a help, never a reason for the page to fail
        current_app.logger.exception("similar ideas failed for idea %s", idea.id)
        similar = []
    return render_template(
        "ideas/detail.html", idea=idea, threads=threads, replies=replies, is_staff=is_staff,
        supported=idea.id in services.supported_ids(current_user, [idea.id]),
        history=services.status_history(idea), merged=merged, similar=similar,
        measures=services.measures_for([idea.id]).get(idea.id, []),
        comment_form=comment_form or CommentForm(), support_form=SupportForm(),
        collection=collection, support=support, comments_open=services.comments_open(),
    )


def _idea_form_values(form):
    sector = None if form.sector.data == UNKNOWN_SECTOR else services.find_sector(form.sector.data)
    district = services.find_district(form.district.data)
    return dict(sector=sector, district=district, latitude=form.latitude.data, longitude=form.longitude.data)


def _map_settings():
    config = current_app.config
    if not config["MAP_TILE_URL"]:
        return None
    latitude, _sep, longitude = config["MAP_CENTER"].partition(",")
    return {"tiles": config["MAP_TILE_URL"], "attribution": config["MAP_ATTRIBUTION"],
            "lat": latitude.strip(), "lng": longitude.strip(), "zoom": config["MAP_ZOOM"]}


@bp.route("/neu", methods=["GET", "POST"])
@allow(SIGNED_IN)
@limiter.limit(config_limit("IDEA_RATE_LIMIT"), methods=["POST"], key_func=account_or_address,
               error_message="Zu viele neue Ideen in kurzer Zeit. Bitte versuchen Sie es später noch einmal.")
def create():
    collection, _support = _phases()
    is_open = collection is not None and collection.is_open()
    form = IdeaForm()
    if is_open and not current_user.is_blocked and form.validate_on_submit():
        earlier = services.recent_duplicate_idea(current_user, form.title.data, form.text.data)
        if earlier is not None:  # the same form sent twice (double click, reload)
            flash(_("Diese Idee haben Sie gerade schon eingereicht; sie wurde nicht doppelt gespeichert."), "info")
            return redirect(url_for("ideas.detail", idea_id=earlier.id))
        try:
            idea = services.create_idea(current_user, form.title.data, form.text.data, **_idea_form_values(form))
        except IdeaError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Danke! Ihre Idee ist veröffentlicht."), "success")
            return redirect(url_for("ideas.detail", idea_id=idea.id))
    return render_template("ideas/form.html", form=form, idea=None, is_open=is_open, collection=collection,
                           map=_map_settings())



@bp.route("/<int:idea_id>/bearbeiten", methods=["GET", "POST"])
@allow(SIGNED_IN)
def edit(idea_id):
    idea = _visible_idea_or_404(idea_id)
    if idea.author_id != current_user.id:
        flash(_("Nur die Person, die die Idee geschrieben hat, kann sie bearbeiten."), "error")
        return redirect(url_for("ideas.detail", idea_id=idea.id))
    if not idea.editable_by(current_user):
        flash(_("Diese Idee kann nicht mehr bearbeitet werden, weil die Verwaltung sie bereits prüft."), "info")
        return redirect(url_for("ideas.detail", idea_id=idea.id))
    form = IdeaForm(obj=idea if request.method == "GET" else None)
    # An entry deactivated since the idea was written stays selectable for this idea.
    if not idea.district.active:
        form.district.choices.append(SelectChoice(idea.district.code, idea.district.name))
    if idea.sector is not None and not idea.sector.active:
        form.sector.choices.append(SelectChoice(idea.sector.code, idea.sector.name))
    if request.method == "GET":
        form.sector.data = idea.sector.code if idea.sector else UNKNOWN_SECTOR
        form.district.data = idea.district.code
    form.submit.label.text = _("Änderungen speichern")
    if form.validate_on_submit():
        try:
            services.edit_idea(idea, current_user, form.title.data, form.text.data, **_idea_form_values(form))
        except IdeaError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Ihre Änderungen sind gespeichert."), "success")
            return redirect(url_for("ideas.detail", idea_id=idea.id))
    return render_template("ideas/form.html", form=form, idea=idea, is_open=True, collection=None,
                           map=_map_settings())


@bp.route("/aehnliche")
@allow(EVERYONE)
def similar():
    """Up to five similar ideas for a draft (JSON for the writing form)."""
    title = (request.args.get("title") or "")[:200]
    text = (request.args.get("text") or "")[:TEXT_MAX]
    exclude = {request.args.get("exclude", type=int)} - {None}
    if len((title + " " + text).strip()) < 8:
        return jsonify({"items": []})
    items = [
        {"id": idea.id, "title": idea.title, "url": url_for("ideas.detail", idea_id=idea.id),
         "supports": idea.support_count, "dot_votes": idea.dot_votes, "status": STATUS_LABELS[idea.status_enum],
         "score": score}
        for idea, score in similar_ideas(title, text, limit=5, exclude=exclude)
    ]
    if not items and first_build_running():
        return jsonify({"items": [], "pending": True})  # after a restart: the form asks again
    return jsonify({"items": items})


@bp.route("/<int:idea_id>/unterstuetzen", methods=["POST"])
@allow(SIGNED_IN)
def support(idea_id):
    idea = _visible_idea_or_404(idea_id)
    withdraw = request.form.get("action") == "withdraw"
    try:
        if withdraw:
            changed = retrying(lambda: services.remove_support(db.session.get(Idea, idea_id), current_user))
        else:
            changed = retrying(lambda: services.add_support(db.session.get(Idea, idea_id), current_user))
    except IdeaError as error:
        flash(error.message, "error")
    else:
        if withdraw:
            flash(_("Sie unterstützen diese Idee nicht mehr.") if changed else
                  _("Sie hatten diese Idee nicht unterstützt."), "success" if changed else "info")
        else:
            flash(_("Danke für Ihre Unterstützung!") if changed else _("Sie unterstützen diese Idee bereits."),
                  "success" if changed else "info")
    return redirect(_back_to(idea))


def _back_to(idea):
    target = request.form.get("next", "")
    if target:
        return safe_next(target)
    return url_for("ideas.detail", idea_id=idea.id, _anchor="unterstuetzung")


@bp.route("/<int:idea_id>/kommentare", methods=["POST"])
@allow(SIGNED_IN)
@limiter.limit(config_limit("COMMENT_RATE_LIMIT"), key_func=account_or_address,
               error_message="Zu viele Kommentare in kurzer Zeit. Bitte versuchen Sie es später noch einmal.")
def comment(idea_id):
    idea = _visible_idea_or_404(idea_id)
    form = CommentForm()
    if not form.validate_on_submit():
        if form.bot_trapped:  # shown again with the text, so that a person can simply send it again
            flash(form.form_errors[0], "error")
            return _detail_page(idea, comment_form=form)
        for errors in form.errors.values():
            flash(_("Kommentar nicht gespeichert: %(error)s", error=errors[0]), "error")
            break
        return redirect(url_for("ideas.detail", idea_id=idea.id, _anchor="kommentieren"))
    parent = None
    if form.parent_id.data:
        try:
            parent = db.session.get(Comment, int(form.parent_id.data))
        except ValueError:
            parent = None
        if parent is None:
            flash(_("Der Kommentar, auf den Sie antworten, existiert nicht mehr."), "error")
            return redirect(url_for("ideas.detail", idea_id=idea.id))
    earlier = services.recent_duplicate_comment(idea, current_user, form.text.data)
    if earlier is not None:
        flash(_("Diesen Kommentar haben Sie gerade schon veröffentlicht."), "info")
        return redirect(url_for("ideas.detail", idea_id=idea.id, _anchor=f"kommentar-{earlier.id}"))
    try:
        created = services.add_comment(idea, current_user, form.text.data, parent,
                                       official=request.form.get("official") == "1")
    except IdeaError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("ideas.detail", idea_id=idea.id, _anchor="kommentieren"))
    db.session.commit()
    flash(_("Ihr Kommentar ist veröffentlicht."), "success")
    return redirect(url_for("ideas.detail", idea_id=idea.id, _anchor=f"kommentar-{created.id}"))


def _report(target, idea, what):
    form = ReportForm()
    if form.validate_on_submit():
        try:
            services.report(current_user, target, form.reason.data, form.note.data)
            db.session.commit()
        except IdeaError as error:
            db.session.rollback()
            flash(error.message, "info")
        except IntegrityError:  # the same person reported twice at the same moment
            db.session.rollback()
            flash(_("Sie haben diesen Beitrag bereits gemeldet."), "info")
        else:
            flash(_("Danke für Ihre Meldung. Die Moderation sieht sie sich an."), "success")
        return redirect(url_for("ideas.detail", idea_id=idea.id))
    return render_template("ideas/report.html", form=form, idea=idea, target=target, what=what)


@bp.route("/<int:idea_id>/melden", methods=["GET", "POST"])
@allow(SIGNED_IN)
def report_idea(idea_id):
    idea = _visible_idea_or_404(idea_id)
    if idea.is_hidden:
        abort(404)
    return _report(idea, idea, _("Idee"))


@bp.route("/kommentare/<int:comment_id>/melden", methods=["GET", "POST"])
@allow(SIGNED_IN)
def report_comment(comment_id):
    target = db.get_or_404(Comment, comment_id)
    idea = _visible_idea_or_404(target.idea_id)
    if target.is_hidden:
        abort(404)
    return _report(target, idea, _("Kommentar"))


@bp.route("/meine")
@allow(SIGNED_IN)
def mine():
    query = select(Idea).where(Idea.author_id == current_user.id).order_by(Idea.created_at.desc(), Idea.id.desc())
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("ideas/mine.html", page=page)





@bp.route("/export.<fmt>")
@allow(EVERYONE)
def export(fmt):
    """Open data: the visible ideas matching the filters, without personal data."""
    from .exporting import FORMATS, MIMETYPES, export as build_export

    if fmt not in FORMATS:
        abort(404)
    filters = parse_filters(request.args, default_sort="newest")
    data = build_export(fmt, full=False, filters=filters)
    response = current_app.response_class(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="ideen-open-data.{fmt}"'
    return response
