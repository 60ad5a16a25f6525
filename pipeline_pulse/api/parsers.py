"""The API's JSON parser: a body nested deeper than Python can parse is a 400, not a 500."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # DRF turns ValueError into a 400; the json module's recursion limit is not one.
            raise exceptions.ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from None
