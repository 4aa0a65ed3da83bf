"""Klima-Beteiligung: participation platform for municipal climate action plans."""
from flask import Flask
from flask_wtf.csrf import generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import PROJECT_ROOT, Config

__version__ = "0.1.0"


def create_app(config=None):
    """Build the application. `config` is a Config instance (default: from the environment)."""
    config = config or Config()
    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(config)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX"], x_proto=app.config["PROXY_FIX"],
                                x_host=app.config["PROXY_FIX"])

    _init_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_template_helpers(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app):
    from .extensions import babel, csrf, db, install_sqlite_pragmas, limiter, login_manager, migrate
    from .model_registry import import_models

    import_models()
    install_sqlite_pragmas()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "de", timezone_selector=lambda: "Europe/Berlin")
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(session_token):
        from .auth.models import User

        return db.session.scalar(
            db.select(User).where(User.session_token == session_token, User.deleted_at.is_(None))
        )


def _register_blueprints(app):
    from .account import bp as account_bp
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .balance import bp as balance_bp
    from .balance.staff import bp as balance_staff_bp
    from .calendar import bp as calendar_bp
    from .events import bp as events_bp
    from .events.staff import bp as event_staff_bp
    from .meetings import bp as working_group_bp
    from .meetings.staff import bp as meeting_staff_bp
    from .ideas import bp as ideas_bp
    from .ideas.staff_routes import bp as idea_staff_bp
    from .analysis.routes import bp as analysis_bp
    from .main import bp as main_bp
    from .measures import bp as measures_bp
    from .measures.staff import bp as measure_staff_bp
    from .notifications import bp as notifications_bp

    for blueprint in (main_bp, auth_bp, account_bp, notifications_bp, ideas_bp, idea_staff_bp, measures_bp,
                      measure_staff_bp, balance_bp, balance_staff_bp, working_group_bp, meeting_staff_bp, events_bp,
                      event_staff_bp, calendar_bp, analysis_bp, admin_bp, api_bp):
        app.register_blueprint(blueprint)


def _register_request_hooks(app):
    from .access import enforce_access
    from .errors import register_error_handlers
    from .security import set_hsts, set_security_headers

    app.before_request(enforce_access)
    app.after_request(set_security_headers)
    if app.config["SESSION_COOKIE_SECURE"]:
        app.after_request(set_hsts)
    register_error_handlers(app)


def _unread_notifications():
    from flask_login import current_user

    from .notifications.services import unread_count

    return unread_count(current_user) if current_user.is_authenticated else 0


def _register_template_helpers(app):
    from flask_babel import format_date, format_datetime, format_decimal, format_number

    from .access import may_open
    from .roles import Role
    from .navigation import navigation_items

    app.jinja_env.globals.update(
        navigation_items=navigation_items,
        may_open=may_open,
        csrf_token=generate_csrf,
        Role=Role,
        format_datetime=format_datetime,
        format_date=format_date,
        format_number=format_number,
        format_decimal=format_decimal,
        site_name=lambda: app.config["SITE_NAME"],
        city_name=lambda: app.config["CITY_NAME"],
        unread_notifications=_unread_notifications,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
