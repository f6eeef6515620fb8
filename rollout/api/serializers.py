"""Shapes of the rollout API. Input serializers check types only (a percentage must be a
JSON string, lists hold strings, unknown fields are refused); the rules live in
``rollout.services`` and come back as 422."""

from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rollout.models import Flag, FlagChange
from rollout.services import FIELDS


class StrictString(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would turn 12 into "12")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBoolean(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{1,3}(\.\d{1,2})?$", "example": "12.50"})
class PercentageString(serializers.Field):
    """A decimal as a JSON string ("12.50"); range and decimals are the service's rules."""

    default_error_messages = {"invalid": 'Must be a decimal string such as "12.50" (a JSON number is refused).'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = Decimal(data)
        except InvalidOperation:
            self.fail("invalid")
        if not value.is_finite():
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return f"{value:.2f}"


class FlagWriteSerializer(serializers.Serializer):
    """Body of POST (``name`` required) and PATCH (``name`` must not change)."""

    name = StrictString(max_length=100, required=False)
    description = StrictString(allow_blank=True, required=False, trim_whitespace=False)
    enabled = StrictBoolean(required=False)
    percentage = PercentageString(required=False)
    users = serializers.ListField(child=StrictString(), required=False, max_length=10_000)
    groups = serializers.ListField(child=StrictString(), required=False, max_length=1_000)
    deny_users = serializers.ListField(child=StrictString(), required=False, max_length=10_000)
    deny_groups = serializers.ListField(child=StrictString(), required=False, max_length=1_000)
    path_prefixes = serializers.ListField(child=StrictString(), required=False, max_length=100)
    fallback_url = StrictString(allow_blank=True, required=False, max_length=500)
    ramp = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="A plan {stages: [{percentage, hold_seconds}], max_error_rate, max_p95_ms, min_requests} starts "
        "a ramp (max_p95_ms one of 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000); "
        '{"status": "paused"} or {"status": "running"} pauses or resumes it; null removes it.',
    )
    reason = StrictString(max_length=2000, help_text="Why: required on every change, kept in the history.")

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return attrs

    def values(self) -> dict:
        """The fields to change, as ``rollout.services`` takes them."""
        return {key: value for key, value in self.validated_data.items() if key in FIELDS}


class RampSerializer(serializers.Serializer):
    stages = serializers.JSONField()
    max_error_rate = serializers.CharField()
    max_p95_ms = serializers.IntegerField()
    min_requests = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["running", "paused", "completed", "rolled_back"])
    stage = serializers.IntegerField(help_text="1-based number of the current stage.")
    stage_started_at = serializers.DateTimeField(allow_null=True)


class FlagSerializer(serializers.ModelSerializer):
    percentage = PercentageString()
    users = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    deny_users = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    deny_groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    path_prefixes = serializers.ListField(child=serializers.CharField())
    ramp = serializers.SerializerMethodField()

    class Meta:
        model = Flag
        fields = [
            "name",
            "description",
            "enabled",
            "percentage",
            "users",
            "groups",
            "deny_users",
            "deny_groups",
            "path_prefixes",
            "fallback_url",
            "ramp",
            "version",
            "created_at",
            "updated_at",
            "updated_by",
        ]
        read_only_fields = fields

    @extend_schema_field(RampSerializer(allow_null=True))
    def get_ramp(self, flag: Flag) -> dict | None:
        if not flag.ramp_plan:
            return None
        return {
            **flag.ramp_plan,
            "status": flag.ramp_status,
            "stage": flag.ramp_stage + 1,
            "stage_started_at": serializers.DateTimeField().to_representation(flag.ramp_stage_started_at)
            if flag.ramp_stage_started_at
            else None,
        }


class FlagChangeSerializer(serializers.ModelSerializer):
    flag = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = FlagChange
        fields = ["flag", "version", "at", "actor", "source", "reason", "changes"]
        read_only_fields = fields
