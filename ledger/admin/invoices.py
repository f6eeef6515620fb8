"""Invoices: the list with status, outstanding and an overdue filter, one invoice with
its lines, payments, postings and history, and the services that draft, edit, issue,
void and get it paid."""

from decimal import Decimal

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from finance import services
from finance.domain.invoice import Invoice as InvoiceAggregate
from finance.services.clock import today
from ledger import models
from ledger.admin import display, forms
from ledger.admin.base import BooksAdmin, FormsetRows
from ledger.admin.journal import entry_total
from ledger.admin.timeline import timeline

OPEN_STATUSES = ("issued", "partially_paid")
STATUSES = ("draft", "issued", "partially_paid", "paid", "void")


def overdue_q(as_of=None) -> Q:
    return Q(status__in=OPEN_STATUSES, due_date__lt=as_of or today())


class InvoiceStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(s, s.replace("_", " ").capitalize()) for s in STATUSES]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_q())
        if self.value() == "no":
            return queryset.exclude(overdue_q())
        return queryset


class AllocationInline(admin.TabularInline):
    model = models.Allocation
    fk_name = "invoice"
    fields = ("payment_link", "allocated", "date")
    readonly_fields = fields
    can_delete = False
    extra = 0
    template = "admin/ledger/includes/readonly_tabular.html"
    ordering = ("seq",)
    verbose_name = "payment allocated"
    verbose_name_plural = "payments allocated"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="payment")
    def payment_link(self, allocation):
        return display.admin_link("payment", allocation.payment_id, "payment")

    @admin.display(description="amount")
    def allocated(self, allocation):
        return display.amount(allocation.amount, allocation.invoice.currency)


def posted_entries(source: str, source_id) -> list[models.JournalEntry]:
    """The journal entries an invoice or payment posted, oldest first."""
    return list(
        models.JournalEntry.objects.filter(source=source, source_id=str(source_id))
        .annotate(total_debit=entry_total())
        .order_by("recorded_seq")
    )


@admin.register(models.Invoice)
class InvoiceAdmin(BooksAdmin):
    list_display = (
        "number_label",
        "customer",
        "status_label",
        "total_amount",
        "outstanding_amount",
        "currency",
        "issue_date",
        "due_date",
        "overdue",
    )
    list_filter = (InvoiceStatusFilter, OverdueFilter)
    date_hierarchy = "due_date"
    search_fields = ("number", "customer")
    ordering = ("-recorded_seq",)
    inlines = (AllocationInline,)
    add_label = "Draft an invoice"
    fieldsets = [
        (None, {"fields": ("id", "number", "customer", "status", "currency", "issue_date", "due_date", "overdue")}),
        ("Figures", {"fields": ("lines_table", "subtotal_amount", "tax_amount", "total_amount", "paid_amount")}),
        ("Outstanding", {"fields": ("outstanding_amount",)}),
        ("Posting", {"fields": ("journal_entry_link", "receivable_account", "void_date", "void_reason")}),
        ("Record", {"fields": ("version", "created_at")}),
    ]
    readonly_fields = (
        "number_label",
        "status_label",
        "overdue",
        "lines_table",
        "subtotal_amount",
        "tax_amount",
        "total_amount",
        "paid_amount",
        "outstanding_amount",
        "journal_entry_link",
    )
    object_actions = {"edit": "edit_view", "issue": "issue_view", "void": "void_view"}

    @admin.display(description="number", ordering="number")
    def number_label(self, invoice):
        return invoice.number or "draft"

    @admin.display(description="status", ordering="status")
    def status_label(self, invoice):
        return invoice.status.replace("_", " ")

    @admin.display(description="overdue")
    def overdue(self, invoice):
        days = (today() - invoice.due_date).days
        if invoice.status in OPEN_STATUSES and days > 0:
            return f"{days} day{'s' if days != 1 else ''}"
        return "—"

    @admin.display(description="total")
    def total_amount(self, invoice):
        return display.amount(invoice.total, invoice.currency)

    @admin.display(description="outstanding")
    def outstanding_amount(self, invoice):
        return display.amount(invoice.outstanding, invoice.currency)

    @admin.display(description="subtotal")
    def subtotal_amount(self, invoice):
        return display.amount(invoice.subtotal, invoice.currency)

    @admin.display(description="tax")
    def tax_amount(self, invoice):
        return display.amount(invoice.tax, invoice.currency)

    @admin.display(description="paid")
    def paid_amount(self, invoice):
        return display.amount(invoice.amount_paid, invoice.currency)

    @admin.display(description="journal entry")
    def journal_entry_link(self, invoice):
        return display.admin_link("journalentry", invoice.journal_entry, "issue posting")

    @admin.display(description="lines")
    def lines_table(self, invoice):
        currency = invoice.currency
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td class='num'>{}</td><td class='num'>{}</td><td>{}</td>"
            "<td class='num'>{}</td><td class='num'>{}</td><td class='num'>{}</td></tr>",
            (
                (
                    line["description"],
                    Decimal(line["quantity"]).normalize(),
                    display.amount(line["unit_price"], currency),
                    line["account"],
                    Decimal(line["tax_rate"]).normalize(),
                    display.amount(line["net"], currency),
                    display.amount(line["tax"], currency),
                )
                for line in invoice.lines
            ),
        )
        return format_html(
            "<table class='invoice-lines'><thead><tr><th>description</th><th>quantity</th><th>unit price</th>"
            "<th>account</th><th>tax rate</th><th>net</th><th>tax</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def detail_context(self, request, invoice):
        buttons = []
        if self.may_act(request):
            if invoice.status == "draft":
                buttons += [
                    ("Edit draft", self.action_url("edit", invoice)),
                    ("Issue", self.action_url("issue", invoice)),
                ]
            if invoice.status in OPEN_STATUSES and request.user.has_perm("ledger.add_payment"):
                buttons.append(("Record payment", reverse("admin:ledger_payment_add") + f"?invoice={invoice.id}"))
            if invoice.status in ("draft", "issued"):
                buttons.append(("Void", self.action_url("void", invoice)))
        return {
            "object_buttons": buttons,
            "posted_entries": posted_entries("invoice", invoice.id),
            "timeline": timeline(InvoiceAggregate.stream_id_for(str(invoice.id))),
            "timeline_title": "History of the invoice",
        }

    # --- services -----------------------------------------------------------------------

    def _lines_formset(self, request, initial=None):
        accounts = forms.account_choices()
        return forms.InvoiceLineFormSet(
            request.POST if request.method == "POST" else None,
            prefix="lines",
            initial=initial,
            form_kwargs={"accounts": accounts},
        )

    def _line_inputs(self, lines):
        used = [i for i, line in enumerate(lines.forms) if not line.is_blank()]
        return used, [lines.forms[i].to_input() for i in used]

    def add_form_view(self, request):
        form = forms.InvoiceForm(request.POST or None)
        lines = self._lines_formset(request)
        if request.method == "POST" and form.is_valid() and lines.is_valid():
            used, inputs = self._line_inputs(lines)
            data = form.cleaned_data
            invoice = self.run_service(
                request,
                lambda actor: services.invoice_create(
                    customer=data["customer"],
                    currency=data["currency"],
                    due_date=data["due_date"],
                    lines=inputs,
                    actor=actor,
                ),
                form,
                {"lines": FormsetRows(lines, used)},
            )
            if invoice is not None:
                return self.done(
                    request,
                    f"Draft invoice for {invoice.customer} saved.",
                    reverse("admin:ledger_invoice_change", args=[invoice.id]),
                    pk=invoice.id,
                    label=f"draft for {invoice.customer}",
                    added=True,
                )
        return self.render_action(
            request,
            title="Draft an invoice",
            form=form,
            formsets={"lines": lines},
            submit="Save draft",
            template="admin/ledger/invoice/draft_form.html",
        )

    def edit_view(self, request, object_id):
        invoice = self.object_or_404(request, object_id)
        form = forms.InvoiceEditForm(
            request.POST or None,
            initial={"customer": invoice.customer, "due_date": invoice.due_date, "version": invoice.version},
        )
        lines = self._lines_formset(
            request,
            initial=[
                {k: line[k] for k in ("description", "quantity", "unit_price", "account", "tax_rate")}
                for line in invoice.lines
            ],
        )
        if request.method == "POST" and form.is_valid() and lines.is_valid():
            used, inputs = self._line_inputs(lines)
            data = form.cleaned_data
            updated = self.run_service(
                request,
                lambda actor: services.invoice_update(
                    invoice_id=str(invoice.id),
                    customer=data["customer"],
                    due_date=data["due_date"],
                    lines=inputs,
                    if_match=data["version"],
                    actor=actor,
                ),
                form,
                {"lines": FormsetRows(lines, used)},
            )
            if updated is not None:
                return self.done(request, "Draft saved.", self.object_url(invoice), pk=invoice.id, label=str(invoice))
        return self.render_action(
            request,
            title=f"Edit draft invoice for {invoice.customer}",
            form=form,
            obj=invoice,
            formsets={"lines": lines},
            submit="Save draft",
            template="admin/ledger/invoice/draft_form.html",
            extra={"currency": invoice.currency},
        )

    def issue_view(self, request, object_id):
        invoice = self.object_or_404(request, object_id)
        form = forms.IssueForm(request.POST or None, initial={"version": invoice.version})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            issued = self.run_service(
                request,
                lambda actor: services.invoice_issue(
                    invoice_id=str(invoice.id), issue_date=data["issue_date"], if_match=data["version"], actor=actor
                ),
                form,
            )
            if issued is not None:
                return self.done(
                    request,
                    f"Invoice {issued.number} issued and posted.",
                    self.object_url(invoice),
                    pk=invoice.id,
                    label=issued.number,
                )
        return self.render_action(
            request,
            title=f"Issue the invoice to {invoice.customer}",
            form=form,
            obj=invoice,
            submit="Issue invoice",
            extra={
                "confirm_text": f"The invoice gets the next number of its year and posts "
                f"{display.amount(invoice.total, invoice.currency)} {invoice.currency} to the receivable."
            },
        )

    def void_view(self, request, object_id):
        invoice = self.object_or_404(request, object_id)
        return self.confirm_view(
            request,
            invoice,
            forms.VoidForm,
            lambda data, actor: services.invoice_void(
                invoice_id=str(invoice.id),
                reason=data["reason"],
                date=data["date"],
                if_match=data["version"],
                actor=actor,
            ),
            done="Invoice voided.",
            title="Void the invoice",
            submit="Void invoice",
            confirm_text="An issued invoice gets a reversing entry. Only invoices without payments allocated.",
        )
