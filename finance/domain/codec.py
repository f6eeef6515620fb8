"""Turns events and aggregate state (dataclasses of Decimals, dates, tuples, dicts) into
JSON-ready values and back, guided by the dataclasses' type hints."""

import dataclasses
import types
import typing
from datetime import date
from decimal import Decimal
from functools import cache


def encode(value):
    if dataclasses.is_dataclass(value):
        return {f.name: encode(getattr(value, f.name)) for f in _fields(type(value))}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, float):
        raise TypeError("floats are not allowed: use Decimal")
    return value


def decode(tp, value):
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        return decode(inner, value)
    if origin is tuple:
        (inner, _ellipsis) = typing.get_args(tp)
        return tuple(decode(inner, item) for item in value)
    if origin is list:
        (inner,) = typing.get_args(tp)
        return [decode(inner, item) for item in value]
    if origin is dict:
        _key, inner = typing.get_args(tp)
        return {key: decode(inner, item) for key, item in value.items()}
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{f.name: decode(hints[f.name], value[f.name]) for f in _fields(tp) if f.name in value})
    if tp is Decimal:
        return Decimal(value)
    if tp is date:
        return date.fromisoformat(value)
    return value


@cache
def _hints(tp) -> dict:
    return typing.get_type_hints(tp)


@cache
def _fields(tp) -> tuple:
    return tuple(f for f in dataclasses.fields(tp) if not f.metadata.get("transient"))
