"""Journal entries: the list with source, status and totals, one entry with its lines,
where it came from and what reversed it, and the services that post and reverse."""

import uuid

from django.contrib import admin
from django.db.models import DecimalField, Exists, OuterRef, Subquery, Sum
from django.urls import reverse
from django.utils.html import format_html

from finance import services
from finance.domain import money
from finance.domain.journal import JournalEntry as JournalEntryAggregate
from ledger import models
from ledger.admin import display, forms
from ledger.admin.base import BooksAdmin, FormsetRows
from ledger.admin.timeline import timeline


def entry_total() -> Subquery:
    """The entry's debits in its own currency (what an accountant calls its amount)."""
    return Subquery(
        models.JournalLine.objects.filter(entry=OuterRef("pk"), currency=OuterRef("currency"))
        .values("entry")
        .annotate(total=Sum("debit"))
        .values("total"),
        output_field=DecimalField(max_digits=19, decimal_places=4),
    )


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [("manual", "Manual"), ("invoice", "Invoice"), ("payment", "Payment")]

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("posted", "Posted"), ("reversed", "Reversed"), ("reversal", "Reversals")]

    def queryset(self, request, queryset):
        if self.value() == "reversal":
            return queryset.filter(reverses__isnull=False)
        return queryset.filter(status=self.value()) if self.value() else queryset


class AccountFilter(admin.SimpleListFilter):
    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return list(models.Account.objects.order_by("code").values_list("code", "code"))

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(Exists(models.JournalLine.objects.filter(entry=OuterRef("pk"), account=self.value())))


class JournalLineInline(admin.TabularInline):
    model = models.JournalLine
    fields = ("line_no", "account_link", "debit_amount", "credit_amount", "currency", "memo")
    readonly_fields = fields
    can_delete = False
    extra = 0
    template = "admin/ledger/includes/readonly_tabular.html"
    ordering = ("line_no",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="account")
    def account_link(self, line):
        return display.admin_link("account", line.account)

    @admin.display(description="debit")
    def debit_amount(self, line):
        return display.amount(line.debit, line.currency) if line.debit else ""

    @admin.display(description="credit")
    def credit_amount(self, line):
        return display.amount(line.credit, line.currency) if line.credit else ""


@admin.register(models.JournalEntry)
class JournalEntryAdmin(BooksAdmin):
    list_display = ("date", "description", "reference", "source", "status_label", "total", "currency", "link_out")
    list_display_links = ("date", "description")
    list_filter = (SourceFilter, StatusFilter, AccountFilter)
    date_hierarchy = "date"
    search_fields = ("description", "reference")
    ordering = ("-date", "-recorded_seq")
    inlines = (JournalLineInline,)
    add_label = "Post a journal entry"
    fields = (
        "id",
        "date",
        "description",
        "reference",
        "currency",
        "source_link",
        "status",
        "reverses_link",
        "reversed_by_link",
        "version",
        "recorded_at",
    )
    readonly_fields = ("source_link", "reverses_link", "reversed_by_link")
    object_actions = {"reverse": "reverse_view"}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(total_debit=entry_total())

    def get_search_results(self, request, queryset, search_term):
        # A pasted entry id finds that entry; anything else searches the text.
        try:
            return queryset.filter(pk=uuid.UUID(search_term.strip())), False
        except ValueError:
            return super().get_search_results(request, queryset, search_term)

    @admin.display(description="status", ordering="status")
    def status_label(self, entry):
        if entry.reverses:
            return "reversal"
        return entry.status

    @admin.display(description="amount")
    def total(self, entry):
        return display.amount(entry.total_debit, entry.currency)

    @admin.display(description="")
    def link_out(self, entry):
        if entry.reversed_by:
            return format_html("reversed by {}", display.admin_link("journalentry", entry.reversed_by, "entry"))
        if entry.reverses:
            return format_html("reverses {}", display.admin_link("journalentry", entry.reverses, "entry"))
        return ""

    @admin.display(description="source")
    def source_link(self, entry):
        if entry.source in ("invoice", "payment") and entry.source_id:
            return format_html("{} {}", entry.source, display.admin_link(entry.source, entry.source_id))
        return entry.source

    @admin.display(description="reverses")
    def reverses_link(self, entry):
        return display.admin_link("journalentry", entry.reverses)

    @admin.display(description="reversed by")
    def reversed_by_link(self, entry):
        return display.admin_link("journalentry", entry.reversed_by)

    def detail_context(self, request, entry):
        buttons = []
        if self.may_act(request) and entry.status == "posted" and not entry.reverses:
            buttons.append(("Reverse", self.action_url("reverse", entry)))
        return {
            "object_buttons": buttons,
            "timeline": timeline(JournalEntryAggregate.stream_id_for(str(entry.id))),
            "timeline_title": "History of the entry",
        }

    # --- services -----------------------------------------------------------------------

    def add_form_view(self, request):
        accounts = forms.account_choices()
        form = forms.JournalEntryForm(request.POST or None)
        lines = forms.JournalLineFormSet(request.POST or None, prefix="lines", form_kwargs={"accounts": accounts})
        if request.method == "POST" and form.is_valid() and lines.is_valid():
            used = [i for i, line in enumerate(lines.forms) if not line.is_blank()]
            inputs = [lines.forms[i].to_input() for i in used]
            data = form.cleaned_data
            entry = self.run_service(
                request,
                lambda actor: services.journal_entry_post(
                    date=data["date"],
                    description=data["description"],
                    reference=data["reference"],
                    currency=data["currency"],
                    lines=inputs,
                    actor=actor,
                ),
                form,
                {"lines": FormsetRows(lines, used)},
            )
            if entry is not None:
                return self.done(
                    request,
                    f"Journal entry posted: {entry.description}.",
                    reverse("admin:ledger_journalentry_change", args=[entry.id]),
                    pk=entry.id,
                    label=f"{entry.date} {entry.description}",
                    added=True,
                )
        return self.render_action(
            request,
            title="Post a journal entry",
            form=form,
            formsets={"lines": lines},
            submit="Post entry",
            template="admin/ledger/journalentry/post_form.html",
            extra={"minor_units": money.MINOR_UNITS},
        )

    def reverse_view(self, request, object_id):
        entry = self.object_or_404(request, object_id)
        form = forms.ReverseForm(request.POST or None, initial={"version": entry.version})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            reversal = self.run_service(
                request,
                lambda actor: services.journal_entry_reverse(
                    entry_id=str(entry.id),
                    date=data["date"],
                    reason=data["reason"],
                    if_match=data["version"],
                    actor=actor,
                ),
                form,
            )
            if reversal is not None:
                return self.done(
                    request,
                    "Entry reversed; this is the reversing entry.",
                    reverse("admin:ledger_journalentry_change", args=[reversal.id]),
                    pk=reversal.id,
                    label=f"{reversal.date} {reversal.description}",
                    added=True,
                )
        return self.render_action(
            request,
            title="Reverse a journal entry",
            form=form,
            obj=entry,
            submit="Post reversal",
            extra={"confirm_text": "A reversing entry with every line mirrored is posted; this entry stays as it is."},
        )
