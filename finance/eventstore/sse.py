"""django-eventstream storage backed by the event store's feed: the SSE id of each
event is its global position, so ``Last-Event-ID`` resumes exactly where a client was."""

from django_eventstream.channelmanager import DefaultChannelManager
from django_eventstream.event import Event
from django_eventstream.storage import StorageBase

from finance.eventstore import feed
from finance.eventstore.serialization import event_json


class FeedStorage(StorageBase):
    def append_event(self, channel, event_type, data):
        raise NotImplementedError("events enter the feed through the event store, not send_event()")

    def get_events(self, channel, last_id, limit=100):
        return [
            Event(channel, "message", event_json(event), id=event.position)
            for event in feed.read(after=int(last_id), limit=limit)
        ]

    def get_current_id(self, channel):
        return feed.last_position()


class FeedChannelManager(DefaultChannelManager):
    """One channel, ``events``; the view in front of it has already checked the role."""

    def get_channels_for_request(self, request, view_kwargs):
        return {feed.CHANNEL}

    def can_read_channel(self, user, channel):
        return channel == feed.CHANNEL and user is not None
