"""Prometheus metrics kept by each process; any domain may count into them.

Per-process series (HTTP requests, submissions, webhook calls) live in prometheus-client's
default registry; with several API workers `zhaocuo serve` points PROMETHEUS_MULTIPROC_DIR at
a shared directory so that any worker's /metrics sums them all. What describes the shared
state (the outbox, the scheduler's heartbeat, the nightly report, calendar coverage, rungs
fired) is read from the database at scrape time (app/metrics_database.py), so every process
answers the same whichever one did the work, the separate scheduler process included.
"""

from prometheus_client import Counter, Histogram

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"  # a 404 for a path no route knows: one series, not one per path

HTTP_REQUESTS = Counter(
    "zhaocuo_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "zhaocuo_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REPORTS_SUBMITTED = Counter(
    "zhaocuo_reports_submitted",
    "Citizens' reports accepted, by whether the site code or host routed them to a unit.",
    ["routed"],
)
WEBHOOK_SECONDS = Histogram(
    "zhaocuo_webhook_duration_seconds",
    "Time of one webhook POST, by outcome (ok, http_error, unreachable).",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
