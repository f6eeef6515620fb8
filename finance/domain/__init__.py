"""The books as plain Python: aggregates, their events, money and domain errors.
Nothing here imports Django, so every rule is tested in microseconds."""
