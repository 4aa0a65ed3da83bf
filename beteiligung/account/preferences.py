"""Personal settings on the account page: how notifications arrive by e-mail and the secret
link of the personal calendar feed. Callers commit."""
import secrets

from flask import current_app, url_for

from ..audit.services import record
from ..notifications.services import mode_of, set_notification_mode
from .services import account_deletion_hook, personal_data_exporter

USER_FEED_ENDPOINT = "calendar.user_feed"


def change_notification_mode(user, mode):
    old = set_notification_mode(user, mode)
    if old != mode:
        record("user.notification_mode_changed", user, actor=user, old={"notification_mode": old},
               new={"notification_mode": mode})
    return old


def renew_calendar_token(user):
    """Create or replace the secret of the personal calendar feed; the old link stops working."""
    renewed = user.calendar_token is not None
    user.calendar_token = secrets.token_urlsafe(24)
    # The secret itself stays out of the audit log.
    record("user.calendar_token_renewed" if renewed else "user.calendar_token_created", user, actor=user)
    return user.calendar_token


def calendar_feed_available():
    return USER_FEED_ENDPOINT in current_app.view_functions


def calendar_feed_url(user):
    """The subscription URL of the user's feed, or None (no token yet, or no feed endpoint)."""
    if not user.calendar_token or not calendar_feed_available():
        return None
    return url_for(USER_FEED_ENDPOINT, token=user.calendar_token, _external=True)


@personal_data_exporter("settings")
def _export_settings(user):
    # Whether a calendar link exists, not the secret: an export file lying around must not
    # open the feed. The owner sees the link on the account page.
    return {"notification_mode": mode_of(user), "calendar_feed_link_exists": user.calendar_token is not None}


@account_deletion_hook
def _delete_settings(user):
    user.calendar_token = None
    user.notification_mode = "off"
