"""Gap-free invoice numbers: one small aggregate per year. Assigning a number appends
to it in the same atomic append as the issue, so a number is used exactly when the
invoice it names is issued, and never twice."""

from dataclasses import dataclass
from functools import singledispatchmethod

from finance.domain.aggregate import Aggregate
from finance.domain.events import DomainEvent, event


@event
class InvoiceNumberAssigned(DomainEvent):
    number: str
    sequence: int
    invoice_id: str


@dataclass
class InvoiceNumbering(Aggregate):
    """``id`` is the year, e.g. ``"2026"``."""

    TYPE = "invoice-numbers"

    last: int = 0

    def assign(self, invoice_id: str) -> str:
        sequence = self.last + 1
        number = f"INV-{self.id}-{sequence:06d}"
        self._record(InvoiceNumberAssigned(number=number, sequence=sequence, invoice_id=invoice_id))
        return number

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(f"numbering cannot apply {type(event).__name__}")

    @apply.register
    def _(self, e: InvoiceNumberAssigned) -> None:
        self.last = e.sequence
