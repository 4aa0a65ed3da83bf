"""The load test's baseline: a bare Flask app whose one route answers "hello".

Served by the same gunicorn command as the platform (`bench/load.py`), so the
difference between the two is the platform's own work: sessions, queries, templates.
"""
from flask import Flask


def create_app():
    app = Flask(__name__)

    @app.get("/")
    def hello():
        return "hello"

    return app
