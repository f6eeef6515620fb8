"""The accountants' back office: every read model of the books in the admin, changed
only through the services (see docs/admin.md)."""

from ledger.admin import accounts, invoices, journal, payments, periods  # noqa: F401  (registers the admins)
