"""WeasyPrint HTML -> PDF/A-3b, reproducibly, with the assessment embedded as JSON.

Sources of nondeterminism removed here, each found by rendering twice and comparing:
- metadata dates: taken from the assessment (`dcterms.created`/`modified` in the head and
  the attachment's dates), never the clock;
- the attachment name and dates: WeasyPrint names a `<link rel="attachment">`
  `attachment.bin` and stamps it with `datetime.now()`; we name it `assessment.json` and
  date it from the assessment;
- font subsets: fontTools stamps each subset font's `head.modified` with the current time
  unless SOURCE_DATE_EPOCH is set, so it is set (to the assessment's time) while writing;
- fonts ship as TTF: WeasyPrint re-saves WOFF/WOFF2 through fontTools, with the same
  timestamp problem at load time;
- the PDF file identifier is a hash of the content (PDF/A's default), not random.

While a report renders, the garbage collector's first-generation threshold is raised:
WeasyPrint allocates several hundred thousand objects that all live until the PDF is
written, and the default threshold would walk them again every 700 allocations (≈ 8 % of
a report's CPU time in a bare process, more in a worker whose older generations also hold
Django's objects). Renderings in one process already take turns under a lock, and the
threshold is restored afterwards; unreachable cycles are still collected, only less often.

A warm worker keeps one WeasyPrint `FontConfiguration` per thread: the report's
`@font-face` files are registered once (WeasyPrint skips a face it already holds) and
Pango's font map keeps its shaping caches between reports. Pango font maps are not
thread-safe, so threads never share one. The caches change no output: the same inputs
give the same bytes whether the configuration is fresh or warm.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from audits.reports.fetcher import REPORT_BASE_URL, ReportUrlFetcher
from audits.reports.html import ATTACHMENT_NAME

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/a-3b"

# SOURCE_DATE_EPOCH is process-wide; renderings in threads of one process take turns.
_EPOCH_LOCK = threading.Lock()


_THREAD_STATE = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's font configuration, created on its first report."""
    config: FontConfiguration | None = getattr(_THREAD_STATE, "font_config", None)
    if config is None:
        config = _THREAD_STATE.font_config = FontConfiguration()
    return config


class ReportRenderError(Exception):
    """The report could not be rendered; the message says why, for the report's row."""


@contextmanager
def _source_date_epoch(moment: datetime) -> Iterator[None]:
    with _EPOCH_LOCK:
        previous = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous


# Generation-0 threshold while a report renders (CPython's default is 700).
_RENDER_GC_THRESHOLD = 100_000


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(_RENDER_GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def render_document(html: str, *, fetcher: ReportUrlFetcher | None = None) -> Any:
    """Lay out the report HTML (WeasyPrint `Document`) with the report-only fetcher."""
    return HTML(
        string=html, base_url=REPORT_BASE_URL, url_fetcher=fetcher or ReportUrlFetcher()
    ).render(font_config=_font_config())


def write_report_pdf(
    html: str, *, dated: datetime, fetcher: ReportUrlFetcher | None = None
) -> bytes:
    """Render `html` to PDF bytes; identical `html` and `dated` give identical bytes.

    The document head must carry exactly one `<link rel="attachment">`, ours, first; any
    other attachment (there should be none: lab text is sanitized) is dropped and logged.
    """
    fetcher = fetcher or ReportUrlFetcher()
    moment = dated.astimezone(UTC) if dated.tzinfo else dated.replace(tzinfo=UTC)
    naive_utc = moment.replace(tzinfo=None)  # WeasyPrint prints attachment dates with a Z
    with _source_date_epoch(moment), _fewer_gc_passes():
        document = render_document(html, fetcher=fetcher)
        attachments = list(document.metadata.attachments)
        if not attachments:
            raise ReportRenderError("the report HTML carries no assessment attachment")
        ours, extra = attachments[0], attachments[1:]
        for attachment in extra:
            logger.warning("dropped an unexpected attachment: %r", attachment.description)
        ours.name = ATTACHMENT_NAME
        ours.description = "Assessment (machine-readable JSON)"
        ours.relationship = "Data"
        ours.created = ours.modified = naive_utc
        document.metadata.attachments = [ours]
        pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
