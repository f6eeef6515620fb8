"""Payments: the list with allocated and unallocated amounts, one payment with the
invoices it pays, its refunds, postings and history, and the services that record,
allocate and refund."""

import uuid

from django.contrib import admin
from django.urls import reverse

from finance import services
from finance.domain import money
from finance.domain.payment import Payment as PaymentAggregate
from finance.services.payments import AllocationInput
from ledger import models
from ledger.admin import display, forms
from ledger.admin.base import BooksAdmin
from ledger.admin.invoices import OPEN_STATUSES, posted_entries
from ledger.admin.timeline import timeline

STATUSES = ("unallocated", "partially_allocated", "allocated", "refunded")


class PaymentStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(s, s.replace("_", " ").capitalize()) for s in STATUSES]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class _ReadOnlyInline(admin.TabularInline):
    can_delete = False
    extra = 0
    template = "admin/ledger/includes/readonly_tabular.html"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentAllocationInline(_ReadOnlyInline):
    model = models.Allocation
    fk_name = "payment"
    fields = ("invoice_link", "allocated", "date")
    readonly_fields = fields
    verbose_name = "allocation"
    verbose_name_plural = "allocated to invoices"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice").order_by("date", "invoice__number")

    @admin.display(description="invoice")
    def invoice_link(self, allocation):
        return display.admin_link("invoice", allocation.invoice_id, allocation.invoice.number)

    @admin.display(description="amount")
    def allocated(self, allocation):
        return display.amount(allocation.amount, allocation.invoice.currency)


class RefundInline(_ReadOnlyInline):
    model = models.Refund
    fields = ("refunded", "date", "reason", "entry_link")
    readonly_fields = fields
    ordering = ("seq",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment")

    @admin.display(description="amount")
    def refunded(self, refund):
        return display.amount(refund.amount, refund.payment.currency)

    @admin.display(description="journal entry")
    def entry_link(self, refund):
        return display.admin_link("journalentry", refund.journal_entry, "posting")


@admin.register(models.Payment)
class PaymentAdmin(BooksAdmin):
    list_display = (
        "date",
        "customer",
        "amount_paid",
        "currency",
        "allocated_amount",
        "unallocated_amount",
        "status_label",
        "method",
        "reference",
    )
    list_display_links = ("date", "customer")
    list_filter = (PaymentStatusFilter,)
    date_hierarchy = "date"
    search_fields = ("customer", "reference")
    ordering = ("-date", "-recorded_seq")
    inlines = (PaymentAllocationInline, RefundInline)
    add_label = "Record a payment"
    fieldsets = [
        (None, {"fields": ("id", "customer", "date", "status_label", "method", "reference")}),
        ("Figures", {"fields": ("amount_paid", "allocated_amount", "refunded_amount", "unallocated_amount")}),
        ("Posting", {"fields": ("deposit_account", "receivable_account", "journal_entry_link")}),
        ("Record", {"fields": ("version", "created_at")}),
    ]
    readonly_fields = (
        "status_label",
        "amount_paid",
        "allocated_amount",
        "refunded_amount",
        "unallocated_amount",
        "journal_entry_link",
    )
    object_actions = {"allocate": "allocate_view", "refund": "refund_view"}

    @admin.display(description="amount", ordering="amount")
    def amount_paid(self, payment):
        return display.amount(payment.amount, payment.currency)

    @admin.display(description="allocated")
    def allocated_amount(self, payment):
        return display.amount(payment.allocated, payment.currency)

    @admin.display(description="unallocated")
    def unallocated_amount(self, payment):
        return display.amount(payment.unallocated, payment.currency)

    @admin.display(description="refunded")
    def refunded_amount(self, payment):
        return display.amount(payment.refunded, payment.currency)

    @admin.display(description="status", ordering="status")
    def status_label(self, payment):
        return payment.status.replace("_", " ")

    @admin.display(description="journal entry")
    def journal_entry_link(self, payment):
        return display.admin_link("journalentry", payment.journal_entry, "receipt posting")

    def detail_context(self, request, payment):
        buttons = []
        if self.may_act(request) and payment.unallocated > 0:
            buttons += [
                ("Allocate", self.action_url("allocate", payment)),
                ("Refund", self.action_url("refund", payment)),
            ]
        return {
            "object_buttons": buttons,
            "posted_entries": posted_entries("payment", payment.id),
            "timeline": timeline(PaymentAggregate.stream_id_for(str(payment.id))),
            "timeline_title": "History of the payment",
        }

    # --- services -----------------------------------------------------------------------

    def add_form_view(self, request):
        invoice = None
        invoice_id = request.POST.get("invoice") or request.GET.get("invoice")
        if invoice_id:
            invoice = models.Invoice.objects.filter(pk=invoice_id).first() if _is_uuid(invoice_id) else None
        initial = {}
        if invoice is not None:
            initial = {
                "customer": invoice.customer,
                "currency": invoice.currency,
                "amount": money.fmt(invoice.outstanding, invoice.currency),
                "allocate": money.fmt(invoice.outstanding, invoice.currency),
                "invoice": str(invoice.id),
            }
        form = forms.PaymentForm(request.POST or None, initial=initial)
        if invoice is None:
            del form.fields["allocate"]
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            allocations = []
            if invoice is not None and data.get("allocate"):
                allocations = [AllocationInput(invoice=str(invoice.id), amount=data["allocate"])]
            payment = self.run_service(
                request,
                lambda actor: services.payment_record(
                    customer=data["customer"],
                    amount=data["amount"],
                    currency=data["currency"],
                    date=data["date"],
                    deposit_account=data["deposit_account"],
                    method=data["method"],
                    reference=data["reference"],
                    allocations=allocations,
                    actor=actor,
                ),
                form,
                aliases={"allocations[0].amount": "allocate", "allocations[0].invoice": "allocate"},
            )
            if payment is not None:
                return self.done(
                    request,
                    f"Payment from {payment.customer} recorded.",
                    reverse("admin:ledger_payment_change", args=[payment.id]),
                    pk=payment.id,
                    label=f"{payment.customer} {payment.amount} {payment.currency}",
                    added=True,
                )
        return self.render_action(
            request,
            title="Record a payment",
            form=form,
            submit="Record payment",
            extra={"for_invoice": invoice},
        )

    def allocate_view(self, request, object_id):
        payment = self.object_or_404(request, object_id)
        invoices = list(
            models.Invoice.objects.filter(
                customer=payment.customer, currency=payment.currency, status__in=OPEN_STATUSES
            ).order_by("due_date", "number")[:500]
        )
        return self.confirm_view(
            request,
            payment,
            forms.AllocateForm,
            lambda data, actor: services.payment_allocate(
                payment_id=str(payment.id),
                invoice_id=data["invoice"],
                amount=data["amount"],
                if_match=data["version"],
                actor=actor,
            ),
            done="Payment allocated.",
            title=f"Allocate the payment from {payment.customer}",
            submit="Allocate",
            confirm_text=f"Unallocated: {display.amount(payment.unallocated, payment.currency)} "
            f"{payment.currency}. Open invoices of {payment.customer} in {payment.currency}, oldest due first.",
            initial={"amount": money.fmt(payment.unallocated, payment.currency)},
            form_kwargs={"invoices": invoices},
        )

    def refund_view(self, request, object_id):
        payment = self.object_or_404(request, object_id)
        return self.confirm_view(
            request,
            payment,
            forms.RefundForm,
            lambda data, actor: services.payment_refund(
                payment_id=str(payment.id),
                amount=data["amount"],
                date=data["date"],
                reason=data["reason"],
                if_match=data["version"],
                actor=actor,
            ),
            done="Refund posted.",
            title=f"Refund to {payment.customer}",
            submit="Post refund",
            confirm_text=f"Refunds come from the unallocated "
            f"{display.amount(payment.unallocated, payment.currency)} {payment.currency} only.",
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
