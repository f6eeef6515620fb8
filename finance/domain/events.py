"""The base of every domain event and the registry that maps stored type names back to
classes. Event classes are frozen dataclasses named in the past tense."""

from dataclasses import dataclass
from typing import ClassVar

from finance.domain import codec

_REGISTRY: dict[str, type["DomainEvent"]] = {}


@dataclass(frozen=True)
class DomainEvent:
    SCHEMA_VERSION: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def to_data(self) -> dict:
        return codec.encode(self)


def event(cls: type[DomainEvent]) -> type[DomainEvent]:
    """Class decorator: a frozen dataclass registered under its class name."""
    cls = dataclass(frozen=True)(cls)
    name = cls.type_name()
    if name in _REGISTRY:
        raise ValueError(f"event type {name} registered twice")
    _REGISTRY[name] = cls
    return cls


def event_class(type_name: str) -> type[DomainEvent]:
    return _REGISTRY[type_name]


def from_data(type_name: str, data: dict) -> DomainEvent:
    """Rebuild an event from its current-schema payload."""
    return codec.decode(_REGISTRY[type_name], data)
