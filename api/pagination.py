from __future__ import annotations

from base64 import b64decode
from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from config.inputs import parse_id


class IdCursorPagination(CursorPagination):
    """Pages by ascending id behind an opaque cursor: rows inserted while a client pages
    through land after its position, so nothing is skipped or seen twice.

    A cursor is only ever one this class wrote. Anything else (bad base64, a position that is
    not an id, a NUL, a number the database cannot hold) is 404 "Invalid cursor", as the README
    promises, rather than reaching the query as a value the id column cannot compare with.
    A page_size that is not a positive whole number is a 400 naming it; a larger one than
    max_page_size is read as max_page_size.
    """

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    invalid_cursor_message = "Invalid cursor: follow the next or previous link of a page."

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None:
            # DRF's own decoding skips characters outside base64, so "%%%" would open the first page.
            try:
                b64decode(encoded.encode("ascii"), validate=True)
            except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
                raise NotFound(self.invalid_cursor_message) from None
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        position = parse_id(cursor.position)
        if position is None:
            raise NotFound(self.invalid_cursor_message)
        return cursor._replace(position=position)

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        significant = raw.lstrip("0")
        if not (raw.isascii() and raw.isdigit() and significant):
            message = f"Enter a whole number from 1; a page holds at most {self.max_page_size} rows."
            raise ValidationError({self.page_size_query_param: [message]})
        # More digits than the cap has is more than the cap: a 5,000-digit number is never parsed.
        if len(significant) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(significant), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
