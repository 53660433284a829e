"""The ticket intake: a small Flask app that turns the request-type definitions into forms.

Mounted under ``/richiesta/`` next to the static KB by ``make run``; every URL is built
with ``url_for``, so it works under any prefix.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FORMS_DIR = PACKAGE_DIR / "forms"


def create_app(test_config: dict | None = None):
    """Create and configure the intake app.

    Defaults first, then ``instance/config.py`` (if any) or ``test_config``. Definitions are
    loaded and checked here: a broken ``intake/forms/*.yaml`` stops the app with
    ``FormDefinitionError`` naming file, line, field and fix.
    """
    # Imported here so that ``intake.rules`` (pure functions) can be used without Flask.
    from flask import Flask

    from .attachments import DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT, DEFAULT_MAX_TOTAL_BYTES, MB

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev",  # replaced in production (issue 9 makes it required outside debug)
        FORMS_DIR=str(DEFAULT_FORMS_DIR),
        KB_INDEX_DIR=os.path.join("build", "kb-index"),
        # Where the static knowledge base lives, for the links back to it.
        KB_SITE_URL="/",
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
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    from . import errors, forms, panels, views

    forms.init_app(app)
    errors.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(panels.bp)
    return app
