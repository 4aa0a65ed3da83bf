"""Start the platform locally: migrate, load the demo on an empty database, serve.

    python run.py [--host H] [--port P] [--no-demo]
"""
import argparse
import os
import sys

# Local serving is plain HTTP on the loopback address; production sets these itself.
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("SCHEDULER_ENABLED", "1")

from beteiligung import create_app  # noqa: E402

app = create_app()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Klima-Beteiligung lokal starten.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--no-demo", action="store_true", help="keinen Demo-Prozess laden")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from beteiligung.demo import demo_logins_present, format_demo_logins, load_demo

    with app.app_context():
        upgrade()
        if not args.no_demo and load_demo():
            print("Demo-Prozess in die leere Datenbank geladen.")
        if demo_logins_present():
            print(format_demo_logins())
    if app.config["SCHEDULER_ENABLED"]:
        from beteiligung.scheduler import start_background

        start_background(app)
    print(f"Die Plattform läuft auf http://{args.host}:{args.port}/ (Beenden mit Strg+C)", flush=True)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    sys.exit(main())
