"""Request bodies the API reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """JSON, refusing (400) a body nested too deeply to parse instead of crashing (500).

    Python's json module recurses once per level of nesting; a body of 50,000 nested
    arrays exhausts the stack. No request of this API nests more than a few levels.
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                "The JSON body is nested too deeply to read; no request of this API nests "
                "more than a few levels."
            ) from None
