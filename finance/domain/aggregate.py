"""The base of the four aggregates (and the two small ones that keep periods and
invoice numbers). Commands check every rule first, then record events; state changes
only by applying an event, so replay and live execution run the same code."""

from dataclasses import dataclass, field
from functools import singledispatchmethod
from typing import ClassVar, Self

from finance.domain import codec
from finance.domain.events import DomainEvent


@dataclass
class Aggregate:
    TYPE: ClassVar[str]
    # Bump when the shape of the state changes: older snapshots are then ignored (or
    # upcast) and the stream replayed.
    SCHEMA_VERSION: ClassVar[int] = 1

    id: str
    version: int = field(default=0, metadata={"transient": True})
    pending: list[DomainEvent] = field(default_factory=list, repr=False, metadata={"transient": True})

    @classmethod
    def stream_id_for(cls, aggregate_id: str) -> str:
        return f"{cls.TYPE}-{aggregate_id}"

    @property
    def stream_id(self) -> str:
        return self.stream_id_for(self.id)

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.pending)

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(f"{type(self).__name__} cannot apply {type(event).__name__}")

    def replay(self, events: list[DomainEvent], version: int) -> None:
        for item in events:
            self.apply(item)
        self.version = version

    def to_state(self) -> dict:
        return codec.encode(self)

    @classmethod
    def from_state(cls, state: dict, version: int) -> Self:
        aggregate = codec.decode(cls, state)
        aggregate.version = version
        return aggregate
