"""Gunicorn settings of the web process (docker-compose.yml and the README's production commands use them:
`gunicorn churnapp.wsgi -c gunicorn.conf.py`; command-line flags override them)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
# No secret may reach the log: never %(u)s (Segment clients send their write key as the Basic-auth user) and the
# path without its query string (%(U)s, not %(r)s), since a token could travel there.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
