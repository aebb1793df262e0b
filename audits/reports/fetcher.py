"""The only way WeasyPrint may load a resource while rendering a report.

A report mixes our template with text a lab wrote. Even though lab text is sanitized
before it reaches the template, the renderer must not be able to read local files, reach
the network (cloud metadata at 169.254.169.254 included) or pull in anything that would
make two renderings of the same inputs differ. So the fetcher serves the project's own
report assets under `static/reports/` and `data:` URIs, and refuses everything else.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

REPORT_ASSETS_DIRECTORY = (Path(__file__).resolve().parents[2] / "static" / "reports").resolve()
# The base URL of the report HTML: relative references in the template resolve here.
REPORT_BASE_URL = REPORT_ASSETS_DIRECTORY.as_uri() + "/"

# Our embedded assessment is the largest data: URI a report carries; anything far larger
# is not ours and would only cost memory.
MAX_DATA_URI_CHARACTERS = 16 * 1024 * 1024

_ASSET_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class ReportFetchRefused(ValueError):
    """A resource the report renderer is not allowed to load."""


class ReportUrlFetcher(URLFetcher):
    """Serve `static/reports/` files and `data:` URIs; refuse and log everything else.

    `refused` lists the URLs refused during this fetcher's rendering, so callers and tests
    can see what a document tried to load.
    """

    def __init__(self) -> None:
        # No redirects, and only the two schemes we serve even reach our `fetch`.
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=1)
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            if len(url) > MAX_DATA_URI_CHARACTERS:
                self._refuse(url, "data: URI too large")
            self.served.append(url[:64])
            return super().fetch(url, headers)
        if scheme == "file":
            asset = self._asset_path(url)
            if asset is not None:
                self.served.append(url)
                content_type = _ASSET_TYPES.get(asset.suffix.lower()) or (
                    mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
                )
                return URLFetcherResponse(url, asset.read_bytes(), {"Content-Type": content_type})
        self._refuse(url, "outside the report assets")

    def _asset_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or parts.query:
            return None
        try:
            path = Path(unquote(parts.path)).resolve()
        except (OSError, RuntimeError):
            return None
        # resolve() has followed symlinks and `..`: the file must really live in the folder.
        if not path.is_relative_to(REPORT_ASSETS_DIRECTORY) or not path.is_file():
            return None
        if path.suffix.lower() not in _ASSET_TYPES:
            return None
        return path

    def _refuse(self, url: str, reason: str) -> None:
        shown = url if len(url) <= 200 else url[:200] + "…"
        self.refused.append(shown)
        logger.warning("report renderer refused to fetch %s (%s)", shown, reason)
        raise ReportFetchRefused(f"refused to fetch {shown}: {reason}")
