"""The chart of accounts: a list with each account's depth in the tree and balances,
the whole tree with rolled-up balances, and the chart's services (open, rename or move,
deactivate, reactivate)."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from finance import services
from finance.domain.chart import CHART_ID, ChartOfAccounts
from ledger import models
from ledger.admin import display, forms
from ledger.admin.base import BooksAdmin
from ledger.admin.timeline import timeline

CHART_STREAM = ChartOfAccounts.stream_id_for(CHART_ID)


def balances_of(codes: list[str] | None = None) -> dict[str, dict[str, Decimal]]:
    """{account: {currency: debit − credit}} over all time, for ``codes`` or every account."""
    rows = models.AccountDailyTotal.objects.all()
    if codes is not None:
        rows = rows.filter(account__in=codes)
    out: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in rows.values("account", "currency").annotate(debit=Sum("debit"), credit=Sum("credit")).order_by():
        out[row["account"]][row["currency"]] = row["debit"] - row["credit"]
    return out


def parents_of_chart() -> dict[str, str | None]:
    # The chart is one aggregate, loaded whole by every posting: reading its codes
    # and parents in one query is of the same order as what the books already do.
    return dict(models.Account.objects.values_list("code", "parent"))


def depth(code: str, parents: dict[str, str | None]) -> int:
    level, seen = 0, parents.get(code)
    while seen is not None and level < 64:
        level, seen = level + 1, parents.get(seen)
    return level


class AccountChangeList(ChangeList):
    """Adds each listed account's depth and balances: two queries for the page."""

    def get_results(self, request):
        super().get_results(request)
        accounts = list(self.result_list)
        if not accounts:
            return
        balances = balances_of([a.code for a in accounts])
        parents = parents_of_chart()
        for account in accounts:
            account.depth = depth(account.code, parents)
            account.balances = balances.get(account.code, {})
        self.result_list = accounts


class ActiveFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Active"), ("no", "Inactive")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(active=self.value() == "yes")
        return queryset


class TypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(t, t.capitalize()) for t in ("asset", "liability", "equity", "revenue", "expense")]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@dataclass
class TreeNode:
    account: models.Account
    depth: int
    own: dict[str, Decimal]
    total: dict[str, Decimal] = field(default_factory=dict)
    has_children: bool = False

    @property
    def own_lines(self) -> list[str]:
        return [display.signed_balance(v, c) for c, v in sorted(self.own.items())]

    @property
    def total_lines(self) -> list[str]:
        return [display.signed_balance(v, c) for c, v in sorted(self.total.items())]


def chart_tree() -> list[TreeNode]:
    """Every account in tree order (parents before children, siblings by code), with
    its own balance and its subtree's, per currency."""
    accounts = {a.code: a for a in models.Account.objects.order_by("code")}
    balances = balances_of()
    children: dict[str | None, list[str]] = defaultdict(list)
    for code, account in accounts.items():
        parent = account.parent if account.parent in accounts else None
        children[parent].append(code)
    nodes: list[TreeNode] = []

    def visit(code: str, level: int) -> dict[str, Decimal]:
        node = TreeNode(accounts[code], level, dict(balances.get(code, {})), has_children=bool(children[code]))
        nodes.append(node)
        total = defaultdict(Decimal, node.own)
        for child in children[code]:
            for currency, value in visit(child, level + 1).items():
                total[currency] += value
        node.total = dict(total)
        return node.total

    for root in children[None]:
        visit(root, 0)
    return nodes


@admin.register(models.Account)
class AccountAdmin(BooksAdmin):
    list_display = ("tree_code", "name", "type", "parent_link", "active", "balance")
    list_display_links = ("tree_code",)
    list_filter = (TypeFilter, ActiveFilter)
    search_fields = ("code", "name")
    ordering = ("code",)
    list_per_page = 100
    add_label = "Open an account"
    fieldsets = [
        (None, {"fields": ("code", "name", "type", "parent_link", "active", "normal_balance", "version")}),
        ("Balances", {"fields": ("balance", "children", "statement")}),
    ]
    readonly_fields = ("parent_link", "balance", "children", "statement")
    object_actions = {"edit": "edit_view", "deactivate": "deactivate_view", "reactivate": "reactivate_view"}

    def get_changelist(self, request, **kwargs):
        return AccountChangeList

    @admin.display(description="code", ordering="code")
    def tree_code(self, account):
        return format_html(
            '<span class="tree-indent" style="padding-left:{}em">{}{}</span>',
            1.5 * getattr(account, "depth", 0),
            "└ " if getattr(account, "depth", 0) else "",
            account.code,
        )

    @admin.display(description="parent", ordering="parent")
    def parent_link(self, account):
        return display.admin_link("account", account.parent)

    @admin.display(description="balance")
    def balance(self, account):
        balances = getattr(account, "balances", None)
        if balances is None:
            balances = balances_of([account.code]).get(account.code, {})
        if not balances:
            return "—"
        return format_html(
            "<br>".join(["{}"] * len(balances)),
            *[display.signed_balance(v, c) for c, v in sorted(balances.items())],
        )

    @admin.display(description="sub-accounts")
    def children(self, account):
        codes = list(models.Account.objects.filter(parent=account.code).order_by("code").values_list("code", flat=True))
        if not codes:
            return "—"
        return format_html(", ".join(["{}"] * len(codes)), *[display.admin_link("account", c) for c in codes])

    @admin.display(description="statement")
    def statement(self, account):
        url = reverse("admin-reports:account-statement") + f"?account={account.code}"
        return format_html('<a href="{}">Account statement with running balance</a>', url)

    # --- pages --------------------------------------------------------------------------

    def extra_urls(self):
        return [path("chart/", self.admin_site.admin_view(self.chart_view), name="ledger_account_chart")]

    def changelist_links(self, request):
        return [("Chart as a tree", reverse("admin:ledger_account_chart"))]

    def chart_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Chart of accounts",
            "opts": self.opts,
            "nodes": chart_tree(),
            "timeline": timeline(CHART_STREAM),
            "timeline_title": "History of the chart",
        }
        return TemplateResponse(request, "admin/ledger/account/chart.html", context)

    def detail_context(self, request, account):
        buttons = []
        if self.may_act(request):
            buttons.append(("Rename or move", self.action_url("edit", account)))
            if account.active:
                buttons.append(("Deactivate", self.action_url("deactivate", account)))
            else:
                buttons.append(("Reactivate", self.action_url("reactivate", account)))
        return {
            "object_buttons": buttons,
            "timeline": timeline(CHART_STREAM, keep=lambda e: e.data.get("code") == account.code),
            "timeline_title": f"History of account {account.code}",
        }

    # --- services -----------------------------------------------------------------------

    def add_form_view(self, request):
        form = forms.AccountOpenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            opened = self.run_service(
                request,
                lambda actor: services.account_open(
                    code=data["code"], name=data["name"], type=data["type"], parent=data["parent"] or None, actor=actor
                ),
                form,
            )
            if opened is not None:
                return self.done(
                    request,
                    f"Account {opened.code} {opened.name} opened.",
                    reverse("admin:ledger_account_change", args=[opened.code]),
                    pk=opened.code,
                    label=f"{opened.code} {opened.name}",
                    added=True,
                )
        return self.render_action(request, title="Open an account", form=form, submit="Open account")

    def edit_view(self, request, object_id):
        account = self.object_or_404(request, object_id)
        initial = {"name": account.name, "parent": account.parent or "", "version": account.version}
        form = forms.AccountEditForm(request.POST or None, initial=initial, account_type=account.type)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            updated = self.run_service(
                request,
                lambda actor: services.account_update(
                    code=account.code,
                    name=data["name"],
                    parent=data["parent"] or None,
                    if_match=data["version"],
                    actor=actor,
                ),
                form,
            )
            if updated is not None:
                return self.done(
                    request,
                    f"Account {account.code} saved.",
                    self.object_url(account),
                    pk=account.code,
                    label=str(account),
                )
        return self.render_action(
            request, title=f"Rename or move account {account.code}", form=form, obj=account, submit="Save"
        )

    def _toggle(self, request, object_id, *, deactivate: bool):
        account = self.object_or_404(request, object_id)
        verb = "Deactivate" if deactivate else "Reactivate"
        service = services.account_deactivate if deactivate else services.account_reactivate
        return self.confirm_view(
            request,
            account,
            forms.ConfirmForm,
            lambda data, actor: service(code=account.code, if_match=data["version"], actor=actor),
            done=f"Account {account.code} {verb.lower()}d.",
            title=f"{verb} account {account.code}",
            submit=verb,
            confirm_text=(
                "Nothing can be posted to an inactive account. Only an account with a zero balance can be deactivated."
                if deactivate
                else "The account will take postings again."
            ),
        )

    def deactivate_view(self, request, object_id):
        return self._toggle(request, object_id, deactivate=True)

    def reactivate_view(self, request, object_id):
        return self._toggle(request, object_id, deactivate=False)
