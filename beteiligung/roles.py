"""Roles and the audiences that route permissions are written in."""
from enum import Enum

from flask_babel import lazy_gettext as _l


class Role(str, Enum):
    CITIZEN = "citizen"
    MEMBER = "member"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CITIZEN: _l("Bürgerin oder Bürger"),
    Role.MEMBER: _l("Mitglied im Arbeitskreis"),
    Role.STAFF: _l("Verwaltung (Moderation und Sichtung)"),
    Role.ADMIN: _l("Administration"),
}

ANONYMOUS = "anonymous"

# Audiences: who may open a route. Every route names exactly one (see access.py).
EVERYONE = frozenset({ANONYMOUS, *(role.value for role in Role)})
SIGNED_IN = frozenset(role.value for role in Role)
WORKING_GROUP = frozenset({Role.MEMBER.value, Role.STAFF.value, Role.ADMIN.value})
STAFF = frozenset({Role.STAFF.value, Role.ADMIN.value})
ADMIN = frozenset({Role.ADMIN.value})
