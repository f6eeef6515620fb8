"""Tables of the event store (streams, events, snapshots, the positioned feed), of
idempotent requests and of API tokens.

The event store reads and writes these tables with hand-written SQL
(``finance.eventstore``); the models exist for migrations and the read-only admin.
"""

from django.conf import settings
from django.db import models


class Stream(models.Model):
    """One row per aggregate. ``version`` moves only by ``UPDATE … WHERE version = expected``."""

    id = models.CharField(primary_key=True, max_length=120)
    type = models.CharField(max_length=40, db_index=True)
    version = models.PositiveIntegerField()
    snapshot_version = models.PositiveIntegerField(default=0)
    snapshot_schema_version = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "finance_stream"
        indexes = [
            models.Index(fields=["type", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.id} @ {self.version}"


class Event(models.Model):
    """An immutable fact. Database triggers refuse UPDATE and DELETE."""

    sequence = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    stream = models.ForeignKey(Stream, on_delete=models.PROTECT, db_column="stream_id")
    stream_type = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=80)
    schema_version = models.PositiveSmallIntegerField()
    data = models.TextField(help_text="canonical JSON")
    metadata = models.TextField(help_text="canonical JSON")
    recorded_at = models.DateTimeField()
    # The writing transaction's id (Postgres xid8 as bigint; set by a column default).
    # The feed hands out only events of transactions older than every running one.
    transaction_id = models.BigIntegerField(null=True, editable=False)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "finance_event"
        constraints = [
            models.UniqueConstraint(fields=["stream", "version"], name="finance_event_stream_version"),
        ]
        indexes = [
            models.Index(fields=["transaction_id", "sequence"], name="finance_event_txid_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.stream_id}#{self.version} {self.type}"


class Snapshot(models.Model):
    """A checked cache of an aggregate's state at a version: deleting it loses nothing."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, db_column="stream_id")
    version = models.PositiveIntegerField()
    schema_version = models.PositiveSmallIntegerField()
    state = models.TextField(help_text="canonical JSON")
    state_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "finance_snapshot"
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "version", "schema_version"], name="finance_snapshot_stream_version"
            ),
        ]
        indexes = [models.Index(fields=["stream", "-version"], name="finance_snapshot_latest")]


class FeedEntry(models.Model):
    """The global position of an event: dense, gap-free and in commit-safe order."""

    position = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(Event, on_delete=models.PROTECT, db_column="event_sequence")

    class Meta:
        db_table = "finance_feed"


class FeedState(models.Model):
    """Single row: how far the positioner has got, and what it has published live."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_transaction_id = models.BigIntegerField(default=0)
    last_sequence = models.BigIntegerField(default=0)
    positioned_upto = models.BigIntegerField(default=0)
    published_upto = models.BigIntegerField(default=0)

    class Meta:
        db_table = "finance_feed_state"


class IdempotencyRecord(models.Model):
    """A finished request under an ``Idempotency-Key``: written in the transaction of the
    events it produced, so a replay and the effect can never disagree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    response_headers = models.TextField(default="{}")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "finance_idempotency"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="finance_idempotency_user_key")]


class ApiToken(models.Model):
    """An API token; only its SHA-256 is stored, the key is shown once when issued."""

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "finance_api_token"

    def __str__(self) -> str:
        return f"token of {self.user}"
