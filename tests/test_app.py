"""The application as a whole: start page, security headers, error pages, package boundaries."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_start_page_is_german_and_accessible_in_structure(client):
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="de">' in page
    assert 'href="#inhalt"' in page and 'id="inhalt"' in page  # skip link and its target
    assert "<main" in page and "<header" in page and "<footer" in page and "<nav" in page
    assert "Klimaneutral bis 2035" in page


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite(client, make_user, login):
    make_user(email="anna@example.org")
    cookie = [c for c in login("anna@example.org").headers.getlist("Set-Cookie") if c.startswith("session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_defaults_use_secure_cookies(monkeypatch):
    from beteiligung.config import Config

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = Config()
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE


def test_no_external_resources_in_pages(client):
    page = client.get("/").get_data(as_text=True)
    for marker in ['src="http', 'href="http', "//cdn", "googleapis"]:
        assert marker not in page


def test_not_found_page_is_german(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert "Diese Seite gibt es nicht." in response.get_data(as_text=True)


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    from beteiligung.config import load_secret_key

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_secret_key(tmp_path)
    assert load_secret_key(tmp_path) == first and len(first) == 64
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_analyse_imports_neither_flask_nor_sqlalchemy():
    code = ("import sys, analyse, analyse.similar; bad = [m for m in ('flask', 'sqlalchemy', 'beteiligung') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_py_migrates_loads_demo_and_serves(tmp_path):
    """`python run.py` on a fresh instance folder: migrations, demo logins, a German start page."""
    port = _free_port()
    env = dict(os.environ, INSTANCE_PATH=str(tmp_path), SCHEDULER_ENABLED="0", PYTHONUNBUFFERED="1",
               PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")  # scrypt for the 24 demo accounts took ~7 s
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    process = subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Die Plattform läuft" in line:
                break
        text = "".join(output)
        assert "admin@beteiligung.example.org" in text, text
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("run.py did not answer:\n" + text)
        assert "Klimaneutral bis 2035" in page
        assert (tmp_path / "beteiligung.sqlite").exists() and (tmp_path / "secret_key").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)
