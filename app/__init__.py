"""create_app(): settings, extensions, security, views, jobs — nothing else."""

import logging
import os
from datetime import timedelta

from flask import Flask, send_from_directory
from sqlalchemy import event

from app.extensions import csrf, db, migrate, sqlite_pragmas


def create_app(overrides=None):
    app = Flask(__name__, instance_path=_instance_dir())
    configure_settings(app, overrides)
    configure_database(app)
    configure_mail(app)
    configure_appbuilder(app)
    configure_security(app)
    configure_cli(app)
    configure_jobs(app)
    configure_device_ops(app)
    configure_security_headers(app)  # it wraps the /acs mount too
    configure_proxy(app)  # outermost: the client's address for everything inside
    return app


def _instance_dir():
    import config

    os.makedirs(config.INSTANCE_DIR, exist_ok=True)
    return config.INSTANCE_DIR


def configure_settings(app, overrides):
    app.config.from_object("config")
    if overrides:
        app.config.update(overrides)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        minutes=app.config["SESSION_IDLE_MINUTES"]
    )
    app.config["FAB_CREATE_DB"] = False  # the schema comes from migrations only
    from app.accounts.security import refuse_placeholder_secret
    from app.core.public_url import init_public_url

    refuse_placeholder_secret(app)
    init_public_url(app)  # first request hook: an untrusted Host is refused before any other
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)


def configure_database(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..",
                                                     "migrations"),
                     render_as_batch=True, compare_type=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", sqlite_pragmas)


def configure_mail(app):
    # Imported here: the app.mail module would shadow a package-level name `mail`.
    from app.extensions import mail

    mail.init_app(app)  # the outbox job (app/core/mail.py) is the only sender


def configure_appbuilder(app):
    from app.accounts.branding import YmcsAppBuilder
    from app.accounts.security import YmcsSecurityManager
    from app.core.dashboard import DashboardView
    from app.core.menu_cache import init_menu_cache
    from app.core.show import format_mac
    from app.core.translate_defaults import translate_view_defaults
    from app.core.translations import init_translations
    from app.views import register_views

    appbuilder = YmcsAppBuilder(security_manager_class=YmcsSecurityManager,
                            base_template="ymcs_base.html", indexview=DashboardView)
    with app.app_context():
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        translate_view_defaults(appbuilder)  # FAB's English titles, labels and raw values
    init_menu_cache(app)
    init_translations(app)  # after FAB's Babel: the request's catalogue found once
    app.jinja_env.filters["mac"] = format_mac  # {{ device.mac | mac }}: 00:15:65:12:34:56
    # The tab's icon; browsers that ask for /favicon.ico get the same one instead of a 404.
    app.add_url_rule("/favicon.ico", "favicon", lambda: send_from_directory(
        app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400))


def configure_security(app):
    from app.accounts.security import make_session_permanent
    from app.accounts.sessions import init_server_sessions
    from app.accounts.views import enforce_account_state
    from app.core.errors import register_error_pages
    from app.core.input_guards import init_input_guards
    from app.core.oplog import init_oplog
    from app.tenancy.acting_views import load_acting, prompt_for_authorization

    init_server_sessions(app)  # sessions live on the server: Exit and the like end them
    csrf.init_app(app)
    init_input_guards(app)  # after the CSRF check: a post without a token is that 400
    # In this order: whoever is signed in may be frozen out or owe a new password before a
    # visit to another tenant resumes, and the authorization prompt comes last.
    app.before_request(make_session_permanent)
    app.before_request(enforce_account_state)
    app.before_request(load_acting)
    app.before_request(prompt_for_authorization)
    init_oplog(app)
    register_error_pages(app)


def configure_security_headers(app):
    from app.core.security_headers import SecurityHeaders

    app.wsgi_app = SecurityHeaders(app.wsgi_app, app.config["SECURITY_HEADERS"])


def configure_proxy(app):
    """Behind PROXY_HOPS reverse proxies, take the client's address and scheme from their
    X-Forwarded-For/-Proto (lockout per address, a device's address for connection requests).
    Never X-Forwarded-Host: the host stays the one TRUSTED_HOSTS checks."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


def configure_cli(app):
    from app.cli import ymcs

    app.cli.add_command(ymcs)


def configure_device_ops(app):
    from app.device_ops import init_device_ops

    init_device_ops(app)


def configure_jobs(app):
    from app.core.jobs import init_jobs

    init_jobs(app)
