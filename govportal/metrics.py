"""Prometheus metrics beyond django-prometheus's request figures.

Task durations (report render times among them) and failures are observed in the process
that runs the task: a worker serves them on GOVPORTAL_WORKER_METRICS_PORT, the embedded
web process (which runs tasks itself) at /metrics. Queue lengths, unsent outbox messages
and report states are read when /metrics is scraped.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from typing import Any

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

TASK_DURATION = prometheus_client.Histogram(
    "govportal_task_duration_seconds",
    "How long background tasks took, by task and outcome (audits.report_render: render time).",
    ["task", "state"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
)
TASK_FAILURES = prometheus_client.Counter(
    "govportal_task_failures",
    "Background tasks that ended in an error, by task and error type.",
    ["task", "error"],
)


class PortalCollector(Collector):
    """Figures read from the database and the broker at scrape time."""

    NAMES = (
        "govportal_outbox_unsent_messages",
        "govportal_reports",
        "govportal_rescore_remaining_filings",
        "govportal_queue_length",
    )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Without this, registering would collect, which reads the database at import.
        for name in self.NAMES:
            yield GaugeMetricFamily(name, name)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from audits.models import Report, RubricPublication
        from audits.services.outbox import outbox_pending

        try:
            unsent = GaugeMetricFamily(
                "govportal_outbox_unsent_messages",
                "Background work committed but not yet handed to a worker.",
            )
            unsent.add_metric([], outbox_pending())
            yield unsent
            reports = GaugeMetricFamily(
                "govportal_reports", "Report versions by status.", labels=["status"]
            )
            counts = dict(
                Report.objects.order_by()
                .values("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            )
            for status in Report.Status.values:
                reports.add_metric([status], counts.get(status, 0))
            yield reports
            rescoring = GaugeMetricFamily(
                "govportal_rescore_remaining_filings",
                "Filings still to re-score under rubric publications in progress.",
            )
            running = RubricPublication.objects.exclude(state=RubricPublication.State.DONE)
            rescoring.add_metric([], sum(row.total - row.finished_count for row in running))
            yield rescoring
        except Exception:
            logger.exception("metrics: the database could not be read")
        lengths = queue_lengths()
        if lengths is not None:
            queues = GaugeMetricFamily(
                "govportal_queue_length", "Tasks waiting in each broker queue.", labels=["queue"]
            )
            for queue, length in lengths.items():
                queues.add_metric([queue], length)
            yield queues


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting in each of the portal's queues (None without a broker)."""
    from govportal.celery import app

    if not settings.CELERY_BROKER_URL:
        return None
    lengths = {}
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            channel: Any = connection.default_channel
            for queue in settings.GOVPORTAL_QUEUES:
                try:
                    lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except Exception:  # an AMQP queue nobody declared yet holds nothing
                    lengths[queue] = 0
    except Exception:
        logger.exception("metrics: the broker could not be read")
        return None
    return lengths


_collector = PortalCollector()
prometheus_client.REGISTRY.register(_collector)


def _registry() -> prometheus_client.CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_collector)
        return registry
    return prometheus_client.REGISTRY


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics, for a scraper with the bearer token (anyone while DEBUG is on)."""
    token = settings.GOVPORTAL_METRICS_TOKEN
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    allowed = (token and hmac.compare_digest(presented, token)) or (settings.DEBUG and not token)
    if not allowed:
        raise Http404("No metrics here.")
    return HttpResponse(
        prometheus_client.generate_latest(_registry()),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )


def worker_metrics_serve(port: int) -> None:
    """A worker's own metrics (task durations and failures) on `port`, all addresses."""
    registry = prometheus_client.CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(TASK_DURATION)
        registry.register(TASK_FAILURES)
    prometheus_client.start_http_server(port, registry=registry)
    logger.info("worker metrics on port %s", port)
