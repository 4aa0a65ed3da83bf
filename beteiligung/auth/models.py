"""Accounts and personal API tokens."""
import hashlib
import secrets

from flask_babel import gettext as _
from flask_login import UserMixin

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime
from ..roles import Role

ROLE_VALUES = tuple(role.value for role in Role)


def new_session_token():
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    audit_type = "user"
    __table_args__ = (
        db.CheckConstraint(
            "role IN ({})".format(", ".join(f"'{value}'" for value in ROLE_VALUES)), name="role_known"
        ),
    )

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=True)  # lower-cased; NULL once deleted
    display_name = db.Column(db.String(80), nullable=True)  # shown beside contributions; NULL once deleted
    password_hash = db.Column(db.String(255), nullable=True)  # werkzeug hash; NULL once deleted
    role = db.Column(db.String(16), nullable=False, default=Role.CITIZEN.value, index=True)  # Role value
    # Flask-Login identifier; replaced on password change and deletion, which ends every session.
    session_token = db.Column(db.String(64), nullable=False, unique=True, default=new_session_token)
    privacy_accepted_at = db.Column(UTCDateTime, nullable=True)  # consent to the privacy notice
    last_login_at = db.Column(UTCDateTime, nullable=True)  # last successful login
    deleted_at = db.Column(UTCDateTime, nullable=True, index=True)  # account deleted by its owner
    blocked_at = db.Column(UTCDateTime, nullable=True)  # blocked by moderation: may read, not write
    blocked_reason = db.Column(db.Text, nullable=True)  # shown to the blocked user
    # How notifications reach the user by e-mail: immediate, daily (one digest a day) or off.
    notification_mode = db.Column(db.String(10), nullable=False, default="immediate", server_default="immediate")
    # Secret of the personal calendar feed (registrations and meetings); None until requested.
    calendar_token = db.Column(db.String(64), nullable=True, unique=True)

    api_tokens = db.relationship(
        "ApiToken", back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def get_id(self):
        return self.session_token

    @property
    def is_active(self):
        return self.deleted_at is None

    @property
    def is_blocked(self):
        return self.blocked_at is not None

    @property
    def is_deleted(self):
        return self.deleted_at is not None

    @property
    def public_name(self):
        """The name shown beside public contributions."""
        if self.is_deleted or not self.display_name:
            return _("gelöschtes Konto")
        return self.display_name

    @property
    def role_enum(self):
        return Role(self.role)

    def has_role(self, *roles):
        return self.role in {Role(r).value for r in roles}

    def __repr__(self):
        return f"<User {self.id} {self.role}>"


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    PREFIX = "bt_"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(
        db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )  # owner
    name = db.Column(db.String(80), nullable=False)  # what the owner uses it for
    token_hash = db.Column(db.String(64), nullable=False, unique=True)  # SHA-256 of the secret
    hint = db.Column(db.String(12), nullable=False)  # first characters, to tell tokens apart
    created_at = db.Column(UTCDateTime, nullable=False)  # when it was issued
    last_used_at = db.Column(UTCDateTime, nullable=True)  # last authenticated request
    revoked_at = db.Column(UTCDateTime, nullable=True)  # revoked tokens no longer authenticate

    user = db.relationship("User", back_populates="api_tokens")

    @property
    def is_active(self):
        return self.revoked_at is None
