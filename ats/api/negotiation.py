"""Content negotiation for endpoints that answer in more than one format (the CSV export).

`?format=csv` narrows the endpoint's renderers to that format, then `Accept` chooses among
them as usual: `?format=csv` works with any `Accept` that admits text/csv (`*/*`, `text/*`,
`application/json, text/csv`) and is 406 with one that does not; `Accept: text/csv` alone
selects CSV too. An unknown format is a 400 naming the parameter, not DRF's bare 404.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

FORMAT_PARAMETER = "format"
MSG_UNKNOWN_FORMAT = "Unknown format {value!r}: use one of {known}."


class FormatParameterNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        wanted = request.query_params.get(FORMAT_PARAMETER, "").strip()
        if wanted:
            matching = [renderer for renderer in renderers if renderer.format == wanted]
            if not matching:
                known = ", ".join(renderer.format for renderer in renderers)
                message = MSG_UNKNOWN_FORMAT.format(value=wanted, known=known)
                raise exceptions.ValidationError({FORMAT_PARAMETER: [message]})
            renderers = matching
        return super().select_renderer(request, renderers, format_suffix)
