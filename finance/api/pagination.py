"""Keyset pagination: ``{"results": [...], "next": <url or null>}``; ``limit`` defaults
to 50 and is capped at 500. Stable under inserts, fast at any depth."""

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class LimitPagination(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = "-pk"

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
            },
        }
