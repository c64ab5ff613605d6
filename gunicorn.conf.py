# gunicorn billing_portal.wsgi -c gunicorn.conf.py   (what `make serve` runs)
# Workers and threads come from the environment; every worker shares state only through the
# database. The access log is one JSON object per request, path without its query string, and
# gunicorn's own lines (stderr) are JSON too: see billing_portal/log_formats.py.
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60  # above CLOUDFLARE_READ_TIMEOUT, so a create's answer is never cut off by gunicorn
# Seconds an idle keep-alive connection stays open. The load balancer in front must give up on an
# idle connection first (its idle timeout shorter than this, e.g. AWS ALB's 60 s), or it may send
# a request just as gunicorn closes the connection: a 502. gunicorn's default, 2 s, is exactly
# the history page's first poll (its polls then back off to 30 s).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
accesslog = "-"
# gunicorn's control socket (for gunicornc) is one path per user, so a second instance on the host
# takes it over and, stopping, removes it from under the first. Nothing here uses it.
control_socket_disable = True
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "billing_portal.log_formats.AccessJsonFormatter"},
        "json_lines": {"()": "billing_portal.log_formats.JsonFormatter"},
    },
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
        "errors": {
            "class": "logging.StreamHandler",
            "formatter": "json_lines",
            "stream": "ext://sys.stderr",
        },
    },
    # gunicorn merges this over its defaults key by key: root and its error log are named too.
    "root": {"level": "INFO", "handlers": ["errors"]},
    "loggers": {
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["errors"], "level": "INFO", "propagate": False},
    },
}
