# gunicorn billing_portal.wsgi -c gunicorn.conf.py
# The access log uses the path without its query string (%(U)s): a Stripe return URL carries the
# PaymentIntent's client secret there.
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60  # above CLOUDFLARE_READ_TIMEOUT, so a create's answer is never cut off by gunicorn
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
