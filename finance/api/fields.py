"""Serializer fields for money: JSON strings in, JSON strings out, never a float."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from finance.domain import money


@extend_schema_field({"type": "string", "format": "decimal", "example": "1250.00", "pattern": r"^-?\d+(\.\d+)?$"})
class MoneyField(serializers.Field):
    """A decimal amount given as a JSON string. A JSON number is refused (400): no float
    ever touches money. Scale and sign are the domain's business (422)."""

    default_error_messages = {
        "not_string": 'must be a decimal in a JSON string, e.g. "12.50" (JSON numbers are refused)',
        "invalid": "is not a decimal number",
    }

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_string")
        try:
            return money.to_decimal(data)
        except (TypeError, ValueError):
            self.fail("invalid")

    def to_representation(self, value):
        return str(value)


@extend_schema_field({"type": "string", "format": "decimal", "example": "2", "pattern": r"^\d+(\.\d+)?$"})
class DecimalStringField(MoneyField):
    """A quantity or a rate: a decimal in a JSON string, like money."""


@extend_schema_field(OpenApiTypes.STR)
class AmountField(serializers.Field):
    """Output: the attribute formatted at the scale of the object's ``currency``."""

    def __init__(self, *, currency_attr: str = "currency", **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.currency_attr = currency_attr

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        currency = instance[self.currency_attr] if isinstance(instance, dict) else getattr(instance, self.currency_attr)
        return value, currency

    def to_representation(self, value):
        amount, currency = value
        return None if amount is None else money.fmt(Decimal(amount), currency)


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
