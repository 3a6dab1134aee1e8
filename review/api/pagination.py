from __future__ import annotations

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Pages by ascending id behind an opaque cursor: rows inserted while a client pages
    through land after its position, so nothing is skipped or seen twice."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
