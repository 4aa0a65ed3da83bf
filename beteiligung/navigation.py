"""The main navigation. An entry appears once its area is installed and the visitor may open it."""
from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from .access import may_open

# (label, endpoint). Areas that are not installed yet simply do not appear.
MAIN_NAVIGATION = [
    (_l("Ideen"), "ideas.index"),
    (_l("Maßnahmen"), "measures.index"),
    (_l("Bilanz"), "balance.index"),
    (_l("Termine"), "calendar.index"),
    (_l("Arbeitskreis"), "working_group.index"),
    (_l("Verwaltung"), "admin.index"),
]


# Blueprints whose pages belong to another entry's area (for aria-current).
AREA_OF = {"idea_staff": "admin", "analysis": "admin", "measure_staff": "admin", "balance_staff": "admin",
           "meeting_staff": "admin", "event_staff": "admin", "events": "calendar", "notifications": "account"}


def _area(endpoint):
    blueprint = endpoint.split(".")[0]
    return AREA_OF.get(blueprint, blueprint)


def navigation_items():
    items = []
    for label, endpoint in MAIN_NAVIGATION:
        if endpoint in current_app.view_functions and may_open(endpoint):
            url = url_for(endpoint)
            current = request.endpoint is not None and _area(request.endpoint) == _area(endpoint)
            items.append({"label": label, "url": url, "current": current})
    return items
