"""Flags, their audit log, the version every worker watches, and (without Redis) the
traffic counts that guard a ramp.

Nothing writes these tables except ``rollout.services``: every change to a flag moves its
``version``, bumps the flag-set version and records a ``FlagChange`` in one transaction.
"""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def new_salt() -> str:
    return secrets.token_hex(16)


class RampStatus(models.TextChoices):
    NONE = "", "no ramp"
    RUNNING = "running", "running"
    PAUSED = "paused", "paused"
    COMPLETED = "completed", "completed"
    ROLLED_BACK = "rolled_back", "rolled back"


class Flag(models.Model):
    name = models.SlugField(max_length=100, unique=True, help_text="Letters, digits, '-' and '_'; fixed once created.")
    description = models.TextField(blank=True)
    enabled = models.BooleanField(
        default=True, help_text="Kill switch: when off the flag is off for everyone, lists and percentage included."
    )
    percentage = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of subjects in the cohort, 0–100 with two decimals.",
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="rollout_allowed_flags",
        help_text="Always on for these users.",
    )
    groups = models.ManyToManyField(
        Group, blank=True, related_name="rollout_allowed_flags", help_text="Always on for members of these groups."
    )
    deny_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="rollout_denied_flags",
        help_text="Always off for these users.",
    )
    deny_groups = models.ManyToManyField(
        Group, blank=True, related_name="rollout_denied_flags", help_text="Always off for members of these groups."
    )
    path_prefixes = models.JSONField(
        default=list, blank=True, help_text='URL path prefixes the flag gates, e.g. ["/beta/"].'
    )
    fallback_url = models.CharField(
        max_length=500, blank=True, help_text="Where a gated request outside the cohort is sent (307); empty → 404."
    )
    salt = models.CharField(max_length=32, default=new_salt, editable=False)
    ramp_plan = models.JSONField(null=True, blank=True)
    ramp_status = models.CharField(max_length=12, choices=RampStatus.choices, default=RampStatus.NONE, blank=True)
    ramp_stage = models.PositiveSmallIntegerField(default=0)
    ramp_stage_started_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.CharField(max_length=150, blank=True, editable=False)

    class Meta:
        db_table = "rollout_flag"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percentage__gte=0) & models.Q(percentage__lte=100),
                name="rollout_flag_percentage_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChangeSource(models.TextChoices):
    ADMIN = "admin", "admin"
    API = "api", "API"
    RAMP = "ramp", "ramp automation"
    SYSTEM = "system", "system"


class FlagChange(models.Model):
    """One audited change: who, when, from where, why, and each field's old → new."""

    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="changes")
    version = models.PositiveIntegerField(help_text="The flag's version after this change.")
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    reason = models.TextField()
    changes = models.JSONField(help_text='{"field": {"old": …, "new": …}}')

    class Meta:
        db_table = "rollout_flag_change"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["flag", "version"], name="rollout_flag_change_version")]

    def __str__(self) -> str:
        return f"{self.flag_id} v{self.version} by {self.actor}"


class FlagSetVersion(models.Model):
    """Single row: bumped in the transaction of every change that affects a decision, so
    a worker knows its in-process copy is stale by comparing one number."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        db_table = "rollout_flag_set_version"


class TrafficCount(models.Model):
    """Requests seen in a ramping flag's cohort, per minute and latency bucket. Used only
    when there is no Redis (the embedded mode); with Redis the same counts live there."""

    flag_name = models.CharField(max_length=100)
    window_start = models.BigIntegerField(help_text="Unix seconds, a multiple of the window length.")
    latency_bucket = models.PositiveSmallIntegerField()
    requests = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)

    class Meta:
        db_table = "rollout_traffic_count"
        constraints = [
            models.UniqueConstraint(
                fields=["flag_name", "window_start", "latency_bucket"], name="rollout_traffic_count_key"
            )
        ]
