"""Keyset pagination: ``{"results": [...], "next": <url or null>}``; ``limit`` defaults
to 50 and is capped at 500. Stable under inserts, fast at any depth."""

from functools import cache

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


@cache  # one component per item type, however many views answer with it
def page_of(serializer_class):
    """The OpenAPI shape of one page of ``serializer_class`` items, for the views that
    paginate by hand (``extend_schema(responses=page_of(EventOut))``); views with a
    paginator declare ``pagination_class`` and drf-spectacular derives it."""
    return inline_serializer(
        name=f"{serializer_class.__name__.removesuffix('Out')}Page",
        fields={"results": serializer_class(many=True), "next": serializers.URLField(allow_null=True)},
    )


class LimitPagination(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = "-pk"

    def decode_cursor(self, request):
        # A cursor that does not decode is a malformed query, not a missing page.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["is not a cursor this service handed out"]}) from None

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
