"""Account services: registration, login, passwords, e-mail change, API tokens.

Services never commit; the request or CLI command that calls them does.
"""
import hmac
import secrets

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..extensions import db
from ..mail.services import queue_mail
from ..models import utcnow
from .models import ApiToken, User, hash_token, new_session_token
from ..roles import Role


class AccountError(Exception):
    """A domain error whose message is shown to the user as it is."""


class EmailTaken(AccountError):
    pass


class WeakPassword(AccountError):
    def __init__(self, problems):
        super().__init__(" ".join(problems))
        self.problems = problems


class InvalidToken(AccountError):
    pass


def normalise_email(email):
    return (email or "").strip().lower()


def find_user_by_email(email):
    email = normalise_email(email)
    if not email:
        return None
    return db.session.scalar(db.select(User).where(func.lower(User.email) == email))


# --- passwords ---------------------------------------------------------------

def password_problems(password, user_inputs=()):
    """German reasons why `password` is too weak; an empty list when it is fine.

    Length alone is not enough: zxcvbn estimates how guessable the password is
    from dictionaries, keyboard patterns, dates and the user's own name and e-mail.
    """
    config = current_app.config
    problems = []
    if len(password) < config["PASSWORD_MIN_LENGTH"]:
        problems.append(
            _("Das Passwort muss mindestens %(n)d Zeichen lang sein.", n=config["PASSWORD_MIN_LENGTH"])
        )
    if len(password) > 200:
        problems.append(_("Das Passwort darf höchstens 200 Zeichen lang sein."))
        return problems
    inputs = [value for value in user_inputs if value]
    for value in list(inputs):
        if "@" in value:
            inputs.append(value.split("@", 1)[0])
    inputs += ["klima", "klimaschutz", "beteiligung", "jena", "passwort"]
    if not problems and zxcvbn(password, user_inputs=inputs)["score"] < config["PASSWORD_MIN_SCORE"]:
        problems.append(
            _("Das Passwort ist zu leicht zu erraten. Verwenden Sie mehrere nicht zusammenhängende "
              "Wörter oder eine längere Zeichenfolge, nicht Ihren Namen oder Ihre E-Mail-Adresse.")
        )
    return problems


def hash_password(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def set_password(user, password, *, check_strength=True):
    """Set a new password and end every other session of the user."""
    if check_strength:
        problems = password_problems(password, (user.email, user.display_name))
        if problems:
            raise WeakPassword(problems)
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()


_DUMMY_HASH = None


def authenticate(email, password):
    """The active user with this e-mail and password, else None.

    An unknown address costs the same hashing work as a wrong password, so the
    response time does not tell whether an account exists.
    """
    global _DUMMY_HASH
    user = find_user_by_email(email)
    if user is None or user.password_hash is None or not user.is_active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def register_user(email, display_name, password, *, role=Role.CITIZEN, privacy_accepted=True,
                  check_strength=True):
    """Create an account. Raises EmailTaken or WeakPassword."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise EmailTaken(_("Für diese E-Mail-Adresse gibt es bereits ein Konto."))
    user = User(
        email=email,
        display_name=display_name.strip(),
        role=Role(role).value,
        privacy_accepted_at=utcnow() if privacy_accepted else None,
    )
    set_password(user, password, check_strength=check_strength)
    db.session.add(user)
    return user


def record_login(user):
    user.last_login_at = utcnow()


# --- signed links ---------------------------------------------------------------

def _serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(value):
    """A short digest that changes when `value` changes, making a link single-use."""
    return hash_token(value or "")[:16]


def request_password_reset(email):
    """Mail a reset link if an active account exists; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return None
    token = _serializer("password-reset").dumps(
        {"uid": user.id, "fp": _fingerprint(user.password_hash)}
    )
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    queue_mail(
        user.email,
        _("Passwort zurücksetzen"),
        "mail/password_reset.txt",
        user=user,
        kind="password_reset",
        name=user.display_name,
        link=url_for("auth.reset_password", token=token, _external=True),
        minutes=minutes,
    )
    return token


def _load_link(salt, token, max_age_key, field, expired, invalid):
    """The user and payload of a signed single-use link. Raises InvalidToken.

    The link carries a fingerprint of `field` (password hash or e-mail), so it
    stops working once that field has changed, i.e. after its first use.
    """
    try:
        data = _serializer(salt).loads(token, max_age=current_app.config[max_age_key])
    except SignatureExpired:
        raise InvalidToken(expired)
    except BadSignature:
        raise InvalidToken(invalid)
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.is_active or not hmac.compare_digest(
        data.get("fp", ""), _fingerprint(getattr(user, field))
    ):
        raise InvalidToken(invalid)
    return user, data


def user_for_reset_token(token):
    """The user a valid, unused reset link belongs to. Raises InvalidToken."""
    user, _data = _load_link(
        "password-reset", token, "PASSWORD_RESET_MAX_AGE", "password_hash",
        expired=_("Der Link ist abgelaufen. Bitte fordern Sie einen neuen an."),
        invalid=_("Der Link ist ungültig oder wurde bereits verwendet."),
    )
    return user


def request_email_change(user, new_email):
    """Send a confirmation link to the new address. Raises EmailTaken."""
    new_email = normalise_email(new_email)
    if find_user_by_email(new_email) is not None:
        raise EmailTaken(_("Diese E-Mail-Adresse kann nicht verwendet werden."))
    token = _serializer("email-change").dumps(
        {"uid": user.id, "new": new_email, "fp": _fingerprint(user.email)}
    )
    queue_mail(
        new_email,
        _("Neue E-Mail-Adresse bestätigen"),
        "mail/email_change.txt",
        user=user,
        kind="email_change",
        name=user.display_name,
        link=url_for("auth.confirm_email", token=token, _external=True),
        hours=current_app.config["EMAIL_CHANGE_MAX_AGE"] // 3600,
    )
    queue_mail(
        user.email,
        _("Änderung Ihrer E-Mail-Adresse angefordert"),
        "mail/email_change_notice.txt",
        user=user,
        kind="email_change_notice",
        name=user.display_name,
    )
    return token


def confirm_email_change(token):
    """Apply a confirmed e-mail change; returns the user. Raises InvalidToken or EmailTaken."""
    user, data = _load_link(
        "email-change", token, "EMAIL_CHANGE_MAX_AGE", "email",
        expired=_("Der Bestätigungslink ist abgelaufen. Bitte ändern Sie die Adresse erneut."),
        invalid=_("Der Bestätigungslink ist ungültig oder wurde bereits verwendet."),
    )
    if find_user_by_email(data["new"]) is not None:
        raise EmailTaken(_("Diese E-Mail-Adresse wird inzwischen von einem anderen Konto verwendet."))
    user.email = data["new"]
    return user


# --- API tokens ---------------------------------------------------------------

def create_api_token(user, name):
    """Issue a personal API token; returns (ApiToken, secret). The secret is shown once."""
    secret = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip()[:80] or _("API-Token"),
        token_hash=hash_token(secret),
        hint=secret[: len(ApiToken.PREFIX) + 6],
        created_at=utcnow(),
    )
    db.session.add(token)
    return token, secret


def revoke_api_token(token):
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def user_for_api_token(secret):
    """The active owner of an unrevoked token, else None. Records the use (at most hourly)."""
    if not secret or not secret.startswith(ApiToken.PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 3600:
        token.last_used_at = now
        db.session.commit()
    return token.user


# --- roles ---------------------------------------------------------------------

class LastAdmin(AccountError):
    pass


def change_role(user, new_role, *, actor, reason=None):
    """Give `user` another role and record it in the audit log.

    The last remaining admin cannot lose the admin role, so nobody is locked out.
    """
    from ..audit.services import record

    new_role = Role(new_role).value
    old_role = user.role
    if old_role == new_role:
        return False
    if old_role == Role.ADMIN.value:
        admins = db.session.scalar(
            db.select(func.count(User.id)).where(User.role == Role.ADMIN.value, User.deleted_at.is_(None))
        )
        if admins <= 1:
            raise LastAdmin(_("Das letzte Administrationskonto kann seine Rolle nicht verlieren."))
    user.role = new_role
    record("user.role_changed", user, actor=actor, old={"role": old_role}, new={"role": new_role},
           reason=reason)
    return True
