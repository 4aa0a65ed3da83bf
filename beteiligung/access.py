"""Deny-by-default route permissions.

Every view names its audience with `@allow(...)`; a route without one is refused
with 403 for everybody (and fails the access-matrix test). The check runs for every
request in one place, together with bearer-token authentication and CSRF, so a
view never has to remember them.
"""
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from .roles import ANONYMOUS, EVERYONE
from .extensions import csrf

# Audiences for endpoints whose view functions we do not write ourselves.
ENDPOINT_AUDIENCES = {"static": EVERYONE}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def allow(audience):
    """Declare who may open a view: one of the audiences in auth/roles.py."""
    audience = frozenset(audience)

    def decorate(view):
        view.access = audience
        return view

    return decorate


def audience_of(endpoint):
    view = current_app.view_functions.get(endpoint)
    audience = getattr(view, "access", None)
    return audience if audience is not None else ENDPOINT_AUDIENCES.get(endpoint)


def current_audience_name():
    return current_user.role if current_user.is_authenticated else ANONYMOUS


def may_open(endpoint):
    """Whether the current user may open `endpoint` (used for navigation links)."""
    audience = audience_of(endpoint)
    return audience is not None and current_audience_name() in audience


def is_api_request():
    return request.path.startswith("/api/")


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _authenticate_bearer(token):
    from .auth.services import user_for_api_token

    user = user_for_api_token(token)
    if user is None:
        from .errors import api_error

        return api_error(401, "Das API-Token ist ungültig oder widerrufen.")
    # The token authenticates this one request; no session cookie is involved.
    g._login_user = user
    g.authenticated_by_token = True
    return None


def enforce_access():
    """before_request: authenticate bearer tokens, check CSRF, then the audience."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: the 404/405 handler answers
    token = bearer_token()
    if token is not None and is_api_request():
        response = _authenticate_bearer(token)
        if response is not None:
            return response
    elif request.method not in SAFE_METHODS:
        csrf.protect()

    audience = audience_of(endpoint)
    if audience is None:
        current_app.logger.error("route %s has no access rule; refused", endpoint)
        abort(403)
    if current_audience_name() in audience:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)


def safe_next(target, fallback="main.index"):
    """A redirect target inside this site, or the fallback page.

    Only absolute paths are allowed: no scheme, no host, no protocol-relative `//`
    and no backslashes that browsers read as slashes.
    """
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
            and not any(ord(ch) < 32 for ch in target)
        ):
            return target
    return url_for(fallback)
