"""The operators' admin for flags. Every save goes through ``rollout.services`` with the
reason the form requires, so admin changes are audited like any other; the history of
each flag shows inline. Flags are never deleted: their kill switch retires them and their
history stays."""

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.html import format_html_join

from finance.domain.errors import DomainError, PreconditionFailed
from rollout import services
from rollout.models import ChangeSource, Flag, FlagChange

_LISTS = ("users", "groups", "deny_users", "deny_groups")
_FORM_FIELD = {"path_prefixes": "prefixes"}


class RampPlanField(forms.JSONField):
    def prepare_value(self, value):
        # No plan shows as an empty box, not as the JSON literal "null".
        return "" if value is None else super().prepare_value(value)


class FlagForm(forms.ModelForm):
    prefixes = forms.CharField(
        label="Path prefixes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="URL path prefixes the flag gates, one per line (e.g. /beta/).",
    )
    ramp = RampPlanField(
        label="Ramp plan",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text='Saving a new plan starts it at its first stage, e.g. {"stages": [{"percentage": "5", '
        '"hold_seconds": 600}, {"percentage": "100", "hold_seconds": 600}], "max_error_rate": "0.01", '
        '"max_p95_ms": 500, "min_requests": 100}. Empty removes the plan.',
    )
    ramp_control = forms.ChoiceField(
        label="Ramp control",
        required=False,
        choices=[("", "leave as it is"), ("pause", "pause the ramp"), ("resume", "resume the ramp")],
    )
    reason = forms.CharField(
        label="Reason for this change",
        max_length=services.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required: recorded in the flag's history with your name.",
    )
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Flag
        fields = ["name", "description", "enabled", "percentage", *_LISTS, "fallback_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["prefixes"].initial = "\n".join(self.instance.path_prefixes or [])
            self.fields["ramp"].initial = self.instance.ramp_plan
            self.fields["seen_version"].initial = self.instance.version
        for name in _LISTS:
            self.fields[name].required = False

    def change_values(self) -> dict:
        """The changed fields, in the form ``rollout.services`` takes them."""
        data, changed = self.cleaned_data, set(self.changed_data)
        values = {}
        for name in ("description", "enabled", "percentage", "fallback_url"):
            if name in changed:
                values[name] = data[name]
        for name in _LISTS:
            if name in changed:
                values[name] = [str(item) for item in data[name]]
        if "prefixes" in changed:
            values["path_prefixes"] = [line.strip() for line in data["prefixes"].splitlines() if line.strip()]
        if "ramp" in changed:
            values["ramp"] = data["ramp"]
        control = data.get("ramp_control")
        if control:
            values["ramp"] = {"status": "paused" if control == "pause" else "running"}
        return values

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("ramp_control") and "ramp" in self.changed_data:
            raise forms.ValidationError("Change the ramp plan or pause/resume it, one at a time.")
        try:
            services.flag_check(flag=self.instance if self.instance.pk else None, values=self.change_values())
        except DomainError as error:
            if not error.errors:
                raise forms.ValidationError(error.detail) from None
            for problem in error.errors:
                field = _FORM_FIELD.get(problem.field, problem.field.split(".")[0].split("[")[0])
                self.add_error(field if field in self.fields else None, problem.message)
        return cleaned


class FlagChangeInline(admin.TabularInline):
    model = FlagChange
    verbose_name = "change"
    verbose_name_plural = "history"
    fields = ["version", "at", "actor", "source", "reason", "what_changed"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="old → new")
    def what_changed(self, change: FlagChange):
        return format_html_join(
            "\n",
            "<div><b>{}</b>: {} → {}</div>",
            (
                (field, json.dumps(values["old"]), json.dumps(values["new"]))
                for field, values in sorted(change.changes.items())
            ),
        )


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    form = FlagForm
    list_display = ["name", "enabled", "percentage", "ramp_status", "updated_at", "updated_by"]
    list_filter = ["enabled", "ramp_status"]
    search_fields = ["name", "description"]
    filter_horizontal = list(_LISTS)
    readonly_fields = ["ramp_status", "ramp_stage", "ramp_stage_started_at", "version", "updated_at", "updated_by"]
    inlines = [FlagChangeInline]
    actions = None
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled", "percentage"]}),
        ("Who", {"fields": list(_LISTS)}),
        ("Gated paths", {"fields": ["prefixes", "fallback_url"]}),
        ("Guarded ramp", {"fields": ["ramp", "ramp_control", "ramp_status", "ramp_stage", "ramp_stage_started_at"]}),
        ("Change", {"fields": ["reason", "seen_version", "version", "updated_at", "updated_by"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "name"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PreconditionFailed:
            self.message_user(
                request, "Not saved: someone changed this flag meanwhile. Review it and save again.", messages.ERROR
            )
        except DomainError as error:
            self.message_user(request, f"Not saved: {error.detail}", messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        actor, reason = request.user.get_username(), form.cleaned_data["reason"]
        values = form.change_values()
        if change:
            flag = services.flag_update(
                name=obj.name,
                values=values,
                reason=reason,
                actor=actor,
                source=ChangeSource.ADMIN,
                if_match=form.cleaned_data.get("seen_version"),
            )
        else:
            flag = services.flag_create(
                name=form.cleaned_data["name"], values=values, reason=reason, actor=actor, source=ChangeSource.ADMIN
            )
        obj.pk = flag.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The service wrote the lists (audited); the history inline is read-only.
        pass

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, [], add)
