"""Event history per aggregate, the global feed, and the live SSE stream."""

from django.shortcuts import get_object_or_404
from django_eventstream.renderers import SSEEventRenderer
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from finance.api.filters import int_param
from finance.api.pagination import page_of
from finance.api.serializers import EventOut, FeedOut
from finance.domain.chart import CHART_ID, ChartOfAccounts
from finance.domain.invoice import Invoice
from finance.domain.journal import JournalEntry
from finance.domain.payment import Payment
from finance.eventstore import feed, sse, store
from finance.eventstore.serialization import event_dict
from ledger import models

FEED_LIMIT = 1000


class _StreamEvents(APIView):
    """The aggregate's events in version order, paginated by ``after_version``."""

    def respond(self, request, stream_id: str) -> Response:
        limit = int_param(request, "limit", default=50, minimum=1, maximum=500)
        after = int_param(request, "after_version", default=0)
        feed.advance_and_publish(wait=False)
        events = store.read_stream(stream_id, after_version=after, limit=limit + 1)
        next_url = None
        if len(events) > limit:
            events = events[:limit]
            next_url = request.build_absolute_uri(f"{request.path}?limit={limit}&after_version={events[-1].version}")
        return Response({"results": [event_dict(e) for e in events], "next": next_url})


_STREAM_PARAMETERS = [OpenApiParameter("after_version", int), OpenApiParameter("limit", int)]


class JournalEntryEvents(_StreamEvents):
    @extend_schema(parameters=_STREAM_PARAMETERS, responses=page_of(EventOut))
    def get(self, request, entry_id):
        get_object_or_404(models.JournalEntry, id=entry_id)
        return self.respond(request, JournalEntry.stream_id_for(str(entry_id)))


class InvoiceEvents(_StreamEvents):
    @extend_schema(parameters=_STREAM_PARAMETERS, responses=page_of(EventOut))
    def get(self, request, invoice_id):
        get_object_or_404(models.Invoice, id=invoice_id)
        return self.respond(request, Invoice.stream_id_for(str(invoice_id)))


class PaymentEvents(_StreamEvents):
    @extend_schema(parameters=_STREAM_PARAMETERS, responses=page_of(EventOut))
    def get(self, request, payment_id):
        get_object_or_404(models.Payment, id=payment_id)
        return self.respond(request, Payment.stream_id_for(str(payment_id)))


class ChartEvents(_StreamEvents):
    @extend_schema(parameters=_STREAM_PARAMETERS, responses=page_of(EventOut))
    def get(self, request):
        return self.respond(request, ChartOfAccounts.stream_id_for(CHART_ID))


class EventFeed(APIView):
    """Every committed event after a position, in position order. Poll with the
    ``last_position`` you got and you never miss an event."""

    @extend_schema(
        parameters=[OpenApiParameter("after", int), OpenApiParameter("limit", int, description="at most 1000")],
        responses=FeedOut,
    )
    def get(self, request):
        after = int_param(request, "after", default=0)
        limit = int_param(request, "limit", default=100, minimum=1, maximum=FEED_LIMIT)
        events = feed.read(after=after, limit=limit)
        return Response(
            {"results": [event_dict(e) for e in events], "last_position": events[-1].position if events else after}
        )


class EventStream(APIView):
    """Server-Sent Events: every committed event, live, in position order. Each event's
    SSE id is ``events:<position>``; ``Last-Event-ID`` (that form or a bare position)
    resumes right after it, and without it the stream starts at the present."""

    # Errors (401/403/400) still come back as problem+json; the stream itself is SSE.
    renderer_classes = [JSONRenderer, SSEEventRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("Last-Event-ID", str, location=OpenApiParameter.HEADER)],
        responses={(200, "text/event-stream"): OpenApiResponse(description="the live feed, one SSE event each")},
    )
    def get(self, request):
        try:
            return sse.stream_response(request.headers.get("Last-Event-ID", ""), request.user.pk)
        except ValueError as error:
            raise ValidationError({"Last-Event-ID": [str(error)]}) from None
