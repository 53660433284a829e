"""The ticket intake: a small Flask app where every request starts from a search of the KB.

``GET /`` is the search step (``flow``); the forms generated from the request-type
definitions (``views``, ``forms``) accept a request only with the search step's token,
and a valid one becomes a ticket with its e-mails (``tickets``, ``store``, ``outbox``).
Mounted under ``/richiesta/`` next to the static KB by ``make run`` (``kb serve``); every
URL is built with ``url_for``, so it works under any prefix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FORMS_DIR = PACKAGE_DIR / "forms"


def create_app(test_config: dict | None = None, overrides: Mapping[str, Any] | None = None):
    """Create and configure the intake app.

    Defaults first, then the environment (:data:`intake.settings.ENVIRONMENT`: the only
    configuration in production) or ``test_config``, then ``overrides`` (what ``kb serve``
    sets). ``INSTANCE_PATH`` (env ``KB_INSTANCE_PATH``) moves the instance folder (database,
    attachments, mail files).

    Everything is checked here, once, before the first request: the settings
    (``ConfigError``, one line per problem with its fix), the request-type definitions
    (``FormDefinitionError`` naming file, line, field and fix). The database schema is
    created or upgraded; a missing search index is only logged (see ``intake.kb``).
    """
    # Imported here so that ``intake.rules`` (pure functions) can be used without Flask.
    from flask import Flask

    from .attachments import DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT, DEFAULT_MAX_TOTAL_BYTES, MB
    from .settings import app_settings, config_from_environment

    # A test's configuration is the whole story: the environment of the test run is ignored.
    source = config_from_environment() if test_config is None else dict(test_config)
    given = {**source, **(overrides or {})}
    instance_path = os.path.abspath(given["INSTANCE_PATH"]) if given.get("INSTANCE_PATH") else None
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping(
        DEBUG=False,  # only FLASK_DEBUG=1 (kb serve, make run) turns development mode on
        FORMS_DIR=str(DEFAULT_FORMS_DIR),
        ATTACHMENT_MAX_BYTES=DEFAULT_MAX_BYTES,
        ATTACHMENTS_MAX_TOTAL_BYTES=DEFAULT_MAX_TOTAL_BYTES,
        ATTACHMENTS_MAX_COUNT=DEFAULT_MAX_COUNT,
        # Above the attachment limits on purpose: a request a bit too big still reaches the
        # form, which then says which file is too big and keeps everything typed. Only
        # absurd requests are cut here (answered by the Italian 413 page).
        MAX_CONTENT_LENGTH=DEFAULT_MAX_TOTAL_BYTES + 4 * MB,
        WTF_CSRF_ENABLED=True,
        # Our forms use WTForms' built-in Italian catalogue (no Flask-Babel needed).
        WTF_I18N_ENABLED=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Static files: their URLs carry a version (see intake.protection), so they may be
        # cached for long; a request without the version gets this shorter lifetime.
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.config.from_mapping(given)
    settings = app_settings(app)  # ConfigError: one line per problem
    # The checked values (defaults included, see intake.settings) for whatever reads them
    # from the config: the searcher, the links back to the site, CORS, the templates.
    app.config.update(DEBUG=settings.debug, KB_INDEX_DIR=str(settings.index_dir), KB_SITE_URL=settings.site_url)
    if not app.config.get("SECRET_KEY"):  # development only: load_settings refuses it otherwise
        import secrets

        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.logger.warning("FLASK_DEBUG: a random SECRET_KEY for this run (sessions end at restart)")

    from . import api, db, errors, flow, forms, gate, health, kb, mail, panels, protection, tickets, views

    forms.init_app(app)
    db.init_app(app)  # creates or upgrades the schema
    gate.init_app(app)
    mail.init_app(app)  # and the background sender when MAIL_BACKGROUND_SENDER is set
    kb.init_app(app)
    errors.init_app(app)
    tickets.init_app(app)
    app.register_blueprint(flow.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(panels.bp)
    app.register_blueprint(tickets.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    protection.init_app(app)  # headers, proxies, rate limits on the views registered above
    return app
