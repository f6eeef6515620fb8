"""Domain errors. The API maps each to one HTTP status (problem+json)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base class; ``errors`` names the offending fields where there are any."""

    title = "Domain error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class RuleViolation(DomainError):
    """The request is well-formed but breaks a rule of the books (422)."""

    title = "Rule violation"

    @classmethod
    def on(cls, field: str, message: str) -> "RuleViolation":
        return cls(message, [FieldError(field, message)])


class StateConflict(DomainError):
    """The aggregate is in a state that does not allow this command (409)."""

    title = "State conflict"


class NotFound(DomainError):
    title = "Not found"


class Problems:
    """Collects field errors so a command reports every offending field at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def check(self, condition: bool, field: str, message: str) -> bool:
        if not condition:
            self.add(field, message)
        return condition

    def raise_if_any(self, detail: str) -> None:
        if self.errors:
            if len(self.errors) == 1:
                detail = f"{detail}: {self.errors[0].field}: {self.errors[0].message}"
            raise RuleViolation(detail, self.errors)


class PreconditionFailed(DomainError):
    """The caller's ``If-Match`` names a version the aggregate has moved past (412)."""

    title = "Precondition failed"

    def __init__(self, expected: int, actual: int):
        super().__init__(f"If-Match names version {expected}; the resource is at version {actual}")
        self.expected = expected
        self.actual = actual
