"""Accounting periods: which months are closed, and the services that close and reopen
them. Nothing posts with a date in a closed month."""

from django.contrib import admin
from django.urls import reverse

from finance import services
from finance.domain.periods import PERIODS_ID, Periods
from ledger import models
from ledger.admin import forms
from ledger.admin.base import BooksAdmin
from ledger.admin.timeline import timeline

PERIODS_STREAM = Periods.stream_id_for(PERIODS_ID)


@admin.register(models.ClosedPeriod)
class ClosedPeriodAdmin(BooksAdmin):
    list_display = ("period", "closed_at")
    search_fields = ("period",)
    ordering = ("-period",)
    fields = ("period", "closed_at")
    add_label = "Close a period"
    object_actions = {"reopen": "reopen_view"}

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request,
            {"timeline": timeline(PERIODS_STREAM, limit=100), "timeline_title": "History of the periods"},
        )

    def detail_context(self, request, period):
        buttons = [("Reopen", self.action_url("reopen", period))] if self.may_act(request) else []
        return {
            "object_buttons": buttons,
            "timeline": timeline(PERIODS_STREAM, keep=lambda e: e.data.get("period") == period.period),
            "timeline_title": f"History of {period.period}",
        }

    def add_form_view(self, request):
        form = forms.PeriodCloseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            period = form.cleaned_data["period"]
            closed = self.run_service(request, lambda actor: services.period_close(period=period, actor=actor), form)
            if closed is not None:
                return self.done(
                    request,
                    f"Period {period} closed.",
                    reverse("admin:ledger_closedperiod_changelist"),
                    pk=period,
                    label=period,
                    added=True,
                )
        return self.render_action(
            request,
            title="Close a period",
            form=form,
            submit="Close period",
            extra={"confirm_text": "Nothing can be posted with a date in a closed month until it is reopened."},
        )

    def reopen_view(self, request, object_id):
        period = self.object_or_404(request, object_id)
        form = forms.PeriodReopenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            reopened = self.run_service(
                request,
                lambda actor: services.period_reopen(period=period.period, reason=reason, actor=actor),
                form,
            )
            if reopened is not None:
                return self.done(
                    request,
                    f"Period {period.period} reopened.",
                    reverse("admin:ledger_closedperiod_changelist"),
                    pk=period.period,
                    label=period.period,
                )
        return self.render_action(request, title=f"Reopen {period.period}", form=form, obj=period, submit="Reopen")
