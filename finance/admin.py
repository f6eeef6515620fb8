"""The event store in the admin: streams and events to read, never to change. Events
are immutable (the database refuses UPDATE and DELETE); corrections are new events."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from finance import models, repository
from finance.domain import events as domain_events
from ledger.admin.base import CappedCountPaginator
from ledger.admin.display import admin_link

# Where an aggregate's own admin page lives: stream type → ledger model name.
_AGGREGATE_PAGES = {"invoice": "invoice", "payment": "payment", "journal": "journalentry"}


def _stream_page(stream_type: str, stream_id: str) -> str:
    aggregate_id = stream_id[len(stream_type) + 1 :]
    if stream_type in _AGGREGATE_PAGES:
        return admin_link(_AGGREGATE_PAGES[stream_type], aggregate_id, stream_id)
    if stream_type == "chart":
        return format_html('<a href="{}">{}</a>', reverse("admin:ledger_account_chart"), stream_id)
    return stream_id


class ReadOnlyAdmin(admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    actions = None
    # Facet counts would run an aggregate over the whole table on every list.
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StreamTypeFilter(admin.SimpleListFilter):
    title = "aggregate"
    parameter_name = "stream_type"
    field = "stream_type"

    def lookups(self, request, model_admin):
        return [(t, t) for t in sorted(repository.AGGREGATE_TYPES)]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class EventTypeFilter(admin.SimpleListFilter):
    title = "event type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        # The registry of event classes, not a DISTINCT over millions of rows.
        return [(name, name) for name in sorted(domain_events._REGISTRY)]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(models.Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "recorded_at", "stream_link", "version", "type", "actor")
    list_display_links = ("sequence",)
    list_filter = (StreamTypeFilter, EventTypeFilter)
    search_fields = ("stream__id",)
    search_help_text = "A stream id, e.g. invoice-<uuid> or chart-main"
    ordering = ("-sequence",)
    fields = (
        "sequence",
        "event_id",
        "stream_link",
        "stream_type",
        "version",
        "type",
        "schema_version",
        "recorded_at",
        "pretty_data",
        "pretty_metadata",
        "hash",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        # An exact stream id uses the (stream, version) index; a substring search
        # would scan every event ever recorded.
        term = search_term.strip()
        return (queryset.filter(stream_id=term) if term else queryset), False

    @admin.display(description="stream", ordering="stream_id")
    def stream_link(self, event):
        return _stream_page(event.stream_type, event.stream_id)

    @admin.display(description="actor")
    def actor(self, event):
        return json.loads(event.metadata).get("actor", "")

    @admin.display(description="data")
    def pretty_data(self, event):
        return format_html("<pre>{}</pre>", json.dumps(json.loads(event.data), indent=2, sort_keys=True))

    @admin.display(description="metadata")
    def pretty_metadata(self, event):
        return format_html("<pre>{}</pre>", json.dumps(json.loads(event.metadata), indent=2, sort_keys=True))


class StreamKindFilter(StreamTypeFilter):
    parameter_name = "type"
    field = "type"


@admin.register(models.Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "version", "snapshot_version", "created_at", "events")
    list_filter = (StreamKindFilter,)
    search_fields = ("id",)
    ordering = ("-created_at",)
    fields = ("id", "type", "version", "snapshot_version", "snapshot_schema_version", "created_at", "page", "events")
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.filter(id__startswith=term) if term else queryset), False

    @admin.display(description="page")
    def page(self, stream):
        return _stream_page(stream.type, stream.id)

    @admin.display(description="events")
    def events(self, stream):
        url = reverse("admin:finance_event_changelist") + f"?q={stream.id}"
        return format_html('<a href="{}">{} events</a>', url, stream.version)
