from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination

MSG_BAD_LIMIT = "limit should be a whole number from 1 to {maximum}."


class CursorPagination(pagination.CursorPagination):
    """`{results, next, previous}` with opaque cursors; stable under concurrent inserts.

    A view chooses its order with `cursor_ordering`; a unique last field keeps pages exact.
    """

    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = ("-id",)

    def get_page_size(self, request: Any) -> int:
        """`limit` from 1 to 500; anything else is a 400 naming it (DRF ignores it silently)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            message = MSG_BAD_LIMIT.format(maximum=self.max_page_size)
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "cursor_ordering", None)
        if ordering:
            return tuple(ordering)
        return super().get_ordering(request, queryset, view)
