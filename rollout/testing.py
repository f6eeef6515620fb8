"""``override_flag``: force a flag on or off in tests, whatever the database says.

    with override_flag("new-ledger-ui", active=True):
        response = client.get("/reports/")

    @override_flag("new-ledger-ui", active=False)
    def test_old_ui(client): ...

The override applies to every request and ``flag_is_active`` call in the process, also
for flags that do not exist, and is undone on exit (nesting restores the outer value).
"""

from django.test.utils import TestContextDecorator

from rollout import decisions


class override_flag(TestContextDecorator):
    def __init__(self, name: str, *, active: bool):
        self.name = name
        self.active = active
        self._previous: bool | None = None
        super().__init__()

    def enable(self) -> None:
        self._previous = decisions.overrides.get(self.name)
        decisions.overrides[self.name] = self.active

    def disable(self) -> None:
        if self._previous is None:
            decisions.overrides.pop(self.name, None)
        else:
            decisions.overrides[self.name] = self._previous
