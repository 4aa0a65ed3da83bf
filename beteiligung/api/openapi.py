"""The OpenAPI 3.1 document, assembled from the `@document` decorations of the routes."""
from flask import url_for

_paths = {}
_schemas = {
    "Error": {
        "type": "object",
        "required": ["message", "status"],
        "properties": {
            "message": {"type": "string", "description": "Fehlermeldung auf Deutsch"},
            "status": {"type": "integer"},
            "field": {"type": "string", "description": "Das betroffene Feld bei Eingabefehlern (422)"},
        },
    },
    "User": {
        "type": "object",
        "required": ["id", "display_name", "role", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "display_name": {"type": "string"},
            "role": {"type": "string", "enum": ["citizen", "member", "staff", "admin"]},
            "created_at": {"type": "string", "format": "date-time"},
            "email": {"type": "string", "format": "email"},
        },
    },
}

PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
]


def _error(description):
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def add_schema(name, schema):
    """Register a component schema (used by later areas for their resources)."""
    _schemas[name] = schema


def document(method, path, *, summary, tag, response=None, paginated=False, auth=True,
             parameters=(), request_body=None, status=200, responses=None):
    """Describe one operation of the API; returns the view unchanged.

    `responses` adds further answers: {status: description} for error bodies, or
    {status: (description, schema name)} for another successful answer.
    """

    def decorate(view):
        if response is None:
            schema = {"type": "object"}
        elif paginated:
            schema = {
                "type": "object",
                "required": ["items", "total", "page", "per_page"],
                "properties": {
                    "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{response}"}},
                    "total": {"type": "integer"},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                },
            }
        else:
            schema = {"$ref": f"#/components/schemas/{response}"}
        operation = {
            "summary": summary,
            "tags": [tag],
            "operationId": f"{method}_{view.__name__}",
            "parameters": list(parameters) + (PAGE_PARAMETERS if paginated else []),
            "responses": {
                str(status): {"description": "OK", "content": {"application/json": {"schema": schema}}},
                "429": _error("Zu viele Anfragen"),
            },
        }
        if request_body is not None:
            operation["requestBody"] = {
                "required": True, "content": {"application/json": {"schema": request_body}}}
            operation["responses"]["400"] = _error("Kein gültiges JSON")
            operation["responses"]["422"] = _error("Ungültige Angaben")
        if auth:
            operation["responses"]["401"] = _error("Nicht angemeldet oder Token ungültig")
            operation["responses"]["403"] = _error("Keine Berechtigung")
        else:
            operation["security"] = []
        if paginated:
            operation["responses"]["422"] = _error("Ungültige Parameter")
        for code, answer in (responses or {}).items():
            if isinstance(answer, tuple):
                description, name = answer
                operation["responses"][str(code)] = {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
            else:
                operation["responses"][str(code)] = _error(answer)
        _paths.setdefault(path, {})[method] = operation
        return view

    return decorate


def documented_paths():
    return {path: set(operations) for path, operations in _paths.items()}


def build_openapi():
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Klima-Beteiligung API",
            "version": "1",
            "description": (
                "Ideen, Maßnahmen, Bilanz und Termine des Klima-Aktionsplans. Anmeldung per Sitzung "
                "(schreibende Anfragen dann mit Header X-CSRFToken) oder mit einem persönlichen "
                "API-Token: `Authorization: Bearer <token>`. Listen sind seitenweise: "
                "`items`, `total`, `page`, `per_page`. Fehler haben ein Feld `message` auf Deutsch."
            ),
        },
        "servers": [{"url": url_for("api.index", _external=False).rstrip("/")}],
        "paths": {path: dict(operations) for path, operations in sorted(_paths.items())},
        "components": {
            "schemas": dict(_schemas),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    }
