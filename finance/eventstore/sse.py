"""The live feed over Server-Sent Events, on django-eventstream's listener machinery.

django-eventstream fans a published event out to the SSE listeners of every process
(through Redis where ``EVENTSTREAM_REDIS`` is set) and encodes SSE frames. Its own
stream loop, though, re-reads from a stale id when an event arrives while it is reading
history, sending events twice; and it trusts published items to arrive in order. Here a
published item is only a wake-up: the stream always reads the feed from the last
position it sent, so a client gets every event once, in position order, whatever order
(or however late) the wake-ups arrive. The SSE id is the position; ``Last-Event-ID``
resumes right after it.
"""

import asyncio

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse
from django_eventstream.utils import sse_encode_event
from django_eventstream.views import Listener, get_listener_manager

from finance.eventstore import feed
from finance.eventstore.serialization import event_json

KEEP_ALIVE_SECONDS = 20
POLL_SECONDS = 5
_BATCH = 100


def parse_last_event_id(value: str) -> int | None:
    """A position from ``"17"`` or django-eventstream's ``"events:17"``; None if absent."""
    value = value.strip()
    if not value:
        return None
    position = value.rsplit(":", 1)[-1]
    if not position.isdigit():
        raise ValueError(f"Last-Event-ID {value!r} names no position")
    return int(position)


def _read(*, after: int, limit: int):
    try:
        return feed.read(after=after, limit=limit)
    finally:
        close_old_connections()  # honour DB_CONN_MAX_AGE between polls


def _frame(event) -> str:
    return sse_encode_event("message", event_json(event), event_id=f"{feed.CHANNEL}:{event.position}")


async def _stream(after: int | None, user_id):
    listener = Listener()
    listener.user_id = user_id
    listener.channels = {feed.CHANNEL}
    listener.assign_loop()
    manager = get_listener_manager()
    manager.add_listener(listener)
    read = sync_to_async(_read)
    try:
        if after is None:
            after = await sync_to_async(feed.last_position)()
        # Padding first, so proxies and browsers start delivering at once.
        yield ":" + " " * 2048 + "\n\nevent: stream-open\ndata:\n\n"
        idle = 0
        while True:
            listener.aevent.clear()
            with manager.lock:
                listener.channel_items = {}
            while True:
                events = await read(after=after, limit=_BATCH)
                if events:
                    yield "".join(_frame(event) for event in events)
                    after, idle = events[-1].position, 0
                if len(events) < _BATCH:
                    break
            try:
                await asyncio.wait_for(listener.aevent.wait(), POLL_SECONDS)
            except TimeoutError:
                # A wake-up can be lost (Redis down, a subscriber still connecting):
                # looking at the feed anyway bounds how late an event can be.
                idle += POLL_SECONDS
                if idle >= KEEP_ALIVE_SECONDS:
                    idle = 0
                    yield "event: keep-alive\ndata:\n\n"
    finally:
        manager.remove_listener(listener)
        # A stream may sit idle for hours: it must not keep a database session open.
        await sync_to_async(connection.close)()


def stream_response(last_event_id: str, user_id) -> StreamingHttpResponse:
    """The SSE response; raises ValueError for a malformed ``Last-Event-ID``."""
    response = StreamingHttpResponse(
        _stream(parse_last_event_id(last_event_id), user_id), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
