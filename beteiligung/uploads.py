"""Uploaded import files waiting for their confirmation (idea import, measure plan import).

An upload is stored under instance/imports/<random token>, written once with O_EXCL and
mode 0600; the session keeps only a small state dict (the token, the cleaned original
name, the settings), so no user input ever becomes a path. Each import flow keeps its
state under its own session key, and a new upload replaces the previous one of the same
flow in this session.

Confirming claims the file by renaming it to <token>.claimed before anything is written:
the rename is atomic, so of two clicks (or two tabs) only one finds the file. If the
import fails the file is renamed back, so the person can correct and try again; after a
successful import it is deleted. Uploads are also deleted when cancelled (`discard`) and
after 24 hours (`remove_stale_uploads`, called when an import starts).
"""
import os
import re
import secrets
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, flash, session
from flask_babel import gettext as _

from .ideas import importing

UPLOAD_EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
UPLOAD_MAX_AGE = 24 * 60 * 60  # seconds
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CLAIMED = ".claimed"


def upload_dir():
    """The folder of pending uploads (instance/imports), created on first use and private to the app."""
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def upload_path(token, claimed=False):
    """The file of an upload token (or of its claimed copy); None when the token is not one we issue."""
    if not isinstance(token, str) or not TOKEN.match(token):
        return None
    return upload_dir() / (token + (CLAIMED if claimed else ""))


def remove_stale_uploads(now=None):
    """Delete uploads older than 24 hours (unfinished imports); returns how many."""
    now = now or time.time()
    removed = 0
    for entry in upload_dir().iterdir():
        try:
            if entry.is_file() and now - entry.stat().st_mtime > UPLOAD_MAX_AGE:
                entry.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # removed at the same moment by another request
    return removed


def discard(state):
    """Delete the file of a pending upload, claimed or not; `state` may be None or invalid."""
    token = state.get("token") if isinstance(state, dict) else None
    for claimed_copy in (False, True):
        path = upload_path(token, claimed=claimed_copy)
        if path is not None:
            path.unlink(missing_ok=True)


def clean_filename(name):
    """The original file name for display and the audit log: no folders, no control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    return name[-150:] or "import"


def stage_upload(form, session_key, *, extensions_message):
    """Check and store the file of an upload form (fields `file` and `encoding`).

    The file must have a name ending in one of UPLOAD_EXTENSIONS (else `extensions_message`),
    fit IMPORT_MAX_BYTES and be readable as a table (`importing.read_table`). Problems are
    appended to `form.file.errors` and None is returned; nothing is stored then. Otherwise
    the previous upload kept under `session_key` is deleted, the file is written under a new
    token, and the result is `(state, table)`: the state dict to keep in the session (token,
    filename, kind, encoding, sheet, size; the caller adds its own settings and stores it)
    and the table that was read.
    """
    storage = form.file.data
    filename = clean_filename(getattr(storage, "filename", ""))
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if storage is None or not getattr(storage, "filename", ""):
        form.file.errors.append(_("Bitte wählen Sie eine Datei aus."))
        return None
    if not filename.lower().endswith(UPLOAD_EXTENSIONS):
        form.file.errors.append(extensions_message)
        return None
    data = storage.stream.read(limit + 1)
    try:
        table = importing.read_table(data, filename, encoding=form.encoding.data, limit_bytes=limit)
    except importing.ImportFileError as error:
        form.file.errors.append(error.message)
        return None
    discard(session.get(session_key))
    token = secrets.token_urlsafe(32)
    descriptor = os.open(upload_path(token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    state = {"token": token, "filename": filename, "kind": table.kind,
             "encoding": table.encoding or form.encoding.data, "sheet": table.sheet, "size": len(data)}
    return state, table


def stored(session_key):
    """The state this session keeps under `session_key`, or None; does not look at the file."""
    state = session.get(session_key)
    return state if isinstance(state, dict) else None


def pending(session_key):
    """The pending upload of this session, or None when there is none or its file is gone.

    A state whose file has gone (removed after 24 hours, imported or cancelled in another tab)
    is dropped from the session with a message asking to upload the file again.
    """
    state = stored(session_key)
    if state is None:
        return None
    path = upload_path(state.get("token"))
    if path is None or not path.is_file():
        session.pop(session_key, None)
        flash(_("Die hochgeladene Datei ist nicht mehr vorhanden (sie wird nach 24 Stunden gelöscht). "
                "Bitte laden Sie sie erneut hoch."), "error")
        return None
    return state


@contextmanager
def claimed(state):
    """Take the file of a pending upload for importing it, so that only one request can.

    Yields the path of the claimed file, or None when another request has taken it (or it
    is gone). When the block raises, the file is put back and the error propagates, so the
    upload can be corrected and confirmed again; when the block ends normally, the file is
    deleted. The caller rolls back its database session on errors.
    """
    path, claimed_path = upload_path(state.get("token")), upload_path(state.get("token"), claimed=True)
    if path is None:
        yield None
        return
    try:
        os.rename(path, claimed_path)  # atomic: only one request can take the file
    except FileNotFoundError:
        yield None
        return
    try:
        yield claimed_path
    except BaseException:
        os.rename(claimed_path, path)
        raise
    claimed_path.unlink(missing_ok=True)
