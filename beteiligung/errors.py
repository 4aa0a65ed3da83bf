"""Error pages in German: HTML for the site, JSON for the API."""
from flask import abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .access import is_api_request
from .extensions import db


def error_messages():
    return {
        400: _("Die Anfrage war ungültig."),
        401: _("Bitte melden Sie sich an."),
        403: _("Sie haben keine Berechtigung für diese Seite."),
        404: _("Diese Seite gibt es nicht."),
        405: _("Diese Aktion ist hier nicht möglich."),
        409: _("Die Daten wurden inzwischen geändert. Bitte laden Sie die Seite neu."),
        413: _("Die gesendeten Daten sind zu groß."),
        422: _("Die Angaben sind unvollständig oder ungültig."),
        429: _("Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es dann erneut."),
        500: _("Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später noch einmal."),
    }


def api_error(status, message=None, **extra):
    body = {"message": message or error_messages().get(status, _("Fehler")), "status": status}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def _render(status, message):
    if is_api_request():
        return api_error(status, message)
    return render_template("errors/error.html", status=status, message=message), status


def handle_http_exception(error):
    status = error.code or 500
    message = error_messages().get(status)
    if message is None:
        message = error.description
    return _render(status, message)


def handle_csrf_error(error):
    return _render(
        400,
        _("Das Formular ist abgelaufen oder unvollständig übertragen worden. "
          "Bitte laden Sie die Seite neu und senden Sie es noch einmal."),
    )


def handle_unexpected_error(error):
    db.session.rollback()
    current_app.logger.exception("unhandled error")
    return _render(500, error_messages()[500])


def refuse_malformed_request():
    """before_request: requests no browser sends are refused before any view runs.

    - A body above MAX_CONTENT_LENGTH gets 413. Werkzeug refuses it only when the body is read;
      a view that never reads it (supporting an idea through the API, say) would act on it.
    - A NUL byte in a query parameter gets 400: never part of a real request, and PostgreSQL
      refuses it in text, so every filter and search would need its own guard.
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is not None and request.content_length > limit:
        abort(413)
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400)


def register_error_handlers(app):
    app.before_request(refuse_malformed_request)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected_error)
