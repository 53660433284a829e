"""gunicorn settings for the intake in production (README, "Deploy").

    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8001 'intake:create_app()'

Everything else the intake needs comes from the environment (SECRET_KEY, DATABASE_URL, ...:
the README's table). Options given on the command line (or in GUNICORN_CMD_ARGS) win over
this file, e.g. ``--workers 2``.
"""

import importlib
import multiprocessing
import os
import sys

# Sync workers: a request is a few milliseconds of CPU (search, a form, one transaction), and
# the reverse proxy buffers slow clients. The usual 2 x cores + 1; WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
# No preloading: each worker opens its own database pool and its own search index files
# (file offsets shared across a fork would mix up reads).
preload_app = False
timeout = 30  # a worker silent for this long is killed and replaced
graceful_timeout = 30  # on SIGTERM or a reload, requests in flight get this long to finish
keepalive = 5  # seconds, for the reverse proxy's connections
# Recycle workers now and then (bounded memory), not all at once. A replacement needs about
# half a second of CPU to start, during which its connections wait: every 50,000 requests,
# not every 5,000 (at 1,000 requests a second, that was a stall every 10 seconds).
max_requests = 50000
max_requests_jitter = 5000
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off slow disks
# gunicorn 24+ opens a control socket in $HOME by default: one per host, which several
# instances (or a benchmark next to them) would fight over. Not used here.
control_socket_disable = True

# Which proxies are believed is the app's decision (TRUSTED_PROXIES, werkzeug ProxyFix), made
# once, there: gunicorn itself trusts no X-Forwarded-* header.
forwarded_allow_ips = ""

# Access log to stdout without personal data: no client address, no user agent, and the path
# without its query string (?q= holds what customers type, ?token= a search token). The
# confirmation's path /ricevuta/<ticket ID> is the only identifier that appears.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'

# The third-party libraries the intake runs on, imported once in the master (see on_starting):
# every worker, including each one replacing another after max_requests, then starts from a
# fork that has them, and boots with about half a second of CPU instead of two; at a few
# hundred requests per second per worker a replacement comes every 15 seconds or so. Only
# libraries: each worker still imports the intake's own code and creates its own app,
# database pool and index readers, so `kill -HUP` (systemctl reload) still loads a new
# version of the intake; upgrading a library needs a restart.
PRELOADED_LIBRARIES = (
    "flask", "flask_wtf", "flask_limiter", "wtforms", "jinja2", "markupsafe", "itsdangerous",
    "sqlalchemy", "sqlalchemy.orm", "alembic.command", "alembic.config", "psycopg",
    "whoosh.index", "whoosh.query", "whoosh.scoring", "whoosh.codec.whoosh3", "numpy",
    "yaml", "email_validator", "limits.storage",
)


def on_starting(server):
    """Check the intake's configuration once, in the master, before any worker starts: one
    line per problem and exit status 1, instead of every worker failing with a traceback.
    Then import the libraries of PRELOADED_LIBRARIES, for the workers to inherit."""
    if "intake" not in (getattr(server.app, "app_uri", None) or server.cfg.wsgi_app or ""):
        return  # another app under the same settings (the benchmark's hello world)
    from intake.settings import ConfigError, config_from_environment, load_settings

    config = config_from_environment()
    try:
        load_settings(config, os.path.abspath(config.get("INSTANCE_PATH", "instance")))
    except ConfigError as exc:
        print(f"The intake cannot start; fix its environment:\n{exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    for name in PRELOADED_LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:  # e.g. psycopg where only SQLite is used: the worker does without
            pass
