"""gunicorn's settings for this app: `gunicorn -c python:webapp.gunicorn_conf wsgi:app`.

Threads rather than processes for concurrency (the work waits on the network), and an access
log of the path without the query: Astria's callback URLs carry their token in the query, and
a token in a log file is a token anyone reading logs can use. Override on the command line
(`--workers 4`); WEB_CONCURRENCY also sets the workers."""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 8
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def post_worker_init(worker) -> None:
    """A worker that serves picks up half-done work and sweeps, before its first request."""
    worker.wsgi.extensions["runtime"].start()
