"""The event store: streams, immutable hash-chained events, checked snapshots and a
global feed that never skips an event committed late."""
