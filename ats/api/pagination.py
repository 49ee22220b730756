from __future__ import annotations

from typing import Any

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """`{results, next, previous}` with opaque cursors; stable under concurrent inserts.

    A view chooses its order with `cursor_ordering`; a unique last field keeps pages exact.
    """

    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = ("-id",)

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "cursor_ordering", None)
        if ordering:
            return tuple(ordering)
        return super().get_ordering(request, queryset, view)
