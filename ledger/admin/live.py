"""The live activity page: the latest events, then every new one as it is recorded,
through the service's Server-Sent Events stream."""

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from finance.eventstore import feed
from finance.eventstore.serialization import event_dict

LIVE_PERMISSION = "finance.view_event"
# The public contract (api.md): the live stream, and the feed to read "after a position".
STREAM_PATH = "/api/v1/events/stream/"
FEED_PATH = "/api/v1/events/"
RECENT = 50
_PAGES = {"invoice": "invoice", "payment": "payment", "journal": "journalentry"}


def page_urls() -> dict[str, str]:
    """Aggregate type → URL of its admin page with ``__id__`` for the id (for the script)."""
    urls = {aggregate: reverse(f"admin:ledger_{model}_change", args=["__id__"]) for aggregate, model in _PAGES.items()}
    urls["chart"] = reverse("admin:ledger_account_chart")
    urls["periods"] = reverse("admin:ledger_closedperiod_changelist")
    return urls


def _row(event) -> dict:
    data = event_dict(event)
    template = page_urls().get(data["aggregate"])
    data["url"] = template.replace("__id__", quote(data["aggregate_id"])) if template else ""
    return data


def live_activity(request):
    if not request.user.has_perm(LIVE_PERMISSION):
        raise PermissionDenied
    last = feed.last_position()
    events = feed.read(after=max(0, last - RECENT), limit=RECENT * 4)[-RECENT:]
    context = {
        **admin.site.each_context(request),
        "title": "Live activity",
        "events": [_row(e) for e in reversed(events)],
        "last_position": events[-1].position if events else last,
        "stream_path": STREAM_PATH,
        "feed_path": FEED_PATH,
        "page_urls": page_urls(),
    }
    return TemplateResponse(request, "admin/live_activity.html", context)


live_activity_view = admin.site.admin_view(live_activity)
