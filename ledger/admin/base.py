"""What every back-office admin shares: read models that the generic admin can only
show, actions that run a service and show its domain errors next to the fields, and a
paginator that never counts a huge table in full."""

import logging
import re
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.admin.utils import quote, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms import BaseForm, BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property

from finance.api import request_context
from finance.domain.errors import DomainError, PreconditionFailed
from finance.eventstore.store import ConcurrencyConflict

logger = logging.getLogger(__name__)

COUNT_CAP = 10_000
_INDEXED_FIELD = re.compile(r"^(?P<name>\w+)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?$")


class CappedCountPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` rows: a list of millions of events or entries costs
    what a list of ten thousand does. Past the cap the list says "10,000+" and the
    accountant narrows it with filters, search or the date drill-down."""

    capped = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.values("pk").order_by()[: COUNT_CAP + 1].count()
        self.capped = counted > COUNT_CAP
        return min(counted, COUNT_CAP)


class FormsetRows:
    """A formset and, for each row handed to a service, the form it came from: domain
    errors name rows by their index in the service's list (``lines[2].debit``)."""

    def __init__(self, formset: BaseFormSet, used: list[int]):
        self.formset = formset
        self.used = used

    def form_for(self, index: int):
        return self.formset.forms[self.used[index]] if index < len(self.used) else None


def attach_domain_errors(
    error: DomainError,
    form: BaseForm,
    rows: dict[str, FormsetRows] | None = None,
    aliases: dict[str, str] | None = None,
) -> None:
    """Show each of the error's field errors next to the field it names (or the form
    field ``aliases`` maps it to), on the form or on a formset row; what names no
    field goes to the top of the form."""
    rows, aliases = rows or {}, aliases or {}
    for field_error in error.errors:
        if aliases.get(field_error.field) in form.fields:
            form.add_error(aliases[field_error.field], field_error.message)
            continue
        match = _INDEXED_FIELD.match(field_error.field)
        if match and match["name"] in rows:
            row_form = rows[match["name"]].form_for(int(match["index"]))
            if row_form is not None:
                field = match["field"] if match["field"] in row_form.fields else None
                row_form.add_error(field, field_error.message)
                continue
        if field_error.field in form.fields:
            form.add_error(field_error.field, field_error.message)
        elif field_error.field in rows:
            rows[field_error.field].formset.non_form_errors().append(field_error.message)
        else:
            form.add_error(
                None, f"{field_error.field}: {field_error.message}" if field_error.field else field_error.message
            )
    if not error.errors:
        form.add_error(None, error.detail)


def _refusal(error: Exception) -> str:
    if isinstance(error, PreconditionFailed):
        return f"This record changed while you were looking at it ({error.detail}). Review it and try again."
    if isinstance(error, ConcurrencyConflict):
        return "The books kept changing under this action; try again."
    return str(getattr(error, "detail", error))


class BooksAdmin(admin.ModelAdmin):
    """A read model in the admin. The generic add/change/delete machinery can never
    write it: ``add`` renders the service form of ``add_form_view``, the change page
    is read-only for everyone, and actions are views that call a service."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    actions = None
    # Facet counts would run an aggregate over the whole table on every list.
    show_facets = admin.ShowFacets.NEVER
    add_label = ""
    # URL name of an object action → the name of the view method that serves it.
    object_actions: dict[str, str] = {}

    # --- permissions --------------------------------------------------------------------

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        opts = self.opts
        user = request.user
        return user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or self.may_act(request)

    def may_act(self, request) -> bool:
        """May the user run this model's services (other than creating one)?"""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.opts.fields] + list(self.readonly_fields)

    # --- urls ---------------------------------------------------------------------------

    def url_name(self, suffix: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix.replace('-', '_')}"

    def get_urls(self):
        extra = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(self._object_action(name)),
                name=self.url_name(name),
            )
            for name in self.object_actions
        ]
        return self.extra_urls() + extra + super().get_urls()

    def extra_urls(self) -> list:
        return []

    def _object_action(self, name: str) -> Callable:
        method = getattr(self, self.object_actions[name])

        def view(request, object_id):
            if not self.may_act(request):
                raise PermissionDenied
            return method(request, object_id)

        return view

    def action_url(self, name: str, obj) -> str:
        return reverse(f"admin:{self.url_name(name)}", args=[quote(str(obj.pk))])

    def object_url(self, obj) -> str:
        return reverse(f"admin:{self.url_name('change')}", args=[quote(str(obj.pk))])

    # --- running services ---------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self.add_form_view(request)

    def add_form_view(self, request) -> HttpResponse:
        raise NotImplementedError

    def run_service(
        self,
        request: HttpRequest,
        call: Callable[[str], Any],
        form: BaseForm,
        rows: dict[str, FormsetRows] | None = None,
        aliases: dict[str, str] | None = None,
    ) -> Any | None:
        """Run ``call(actor)``. On a domain error put its messages next to the fields
        and at the top of the page, and return None: nothing was written."""
        actor = request.user.get_username()
        request_context.set_user(actor)
        try:
            return call(actor)
        except (DomainError, ConcurrencyConflict) as error:
            logger.info(
                "admin action refused",
                extra={"model": self.opts.model_name, "error": type(error).__name__, "detail": str(error)},
            )
            if isinstance(error, DomainError) and not isinstance(error, PreconditionFailed):
                attach_domain_errors(error, form, rows, aliases)
            else:
                form.add_error(None, _refusal(error))
            messages.error(request, _refusal(error))
            return None

    def confirm_view(
        self,
        request: HttpRequest,
        obj,
        form_class: type[BaseForm],
        call: Callable[[dict, str], Any],
        *,
        done: str,
        title: str,
        submit: str,
        confirm_text: str,
        initial: dict | None = None,
        form_kwargs: dict | None = None,
    ) -> HttpResponse:
        """The page of one action on ``obj``: a form that carries the version the user saw,
        ``call(cleaned_data, actor)`` on submit (the service gets that version as If-Match),
        then back to the object's page saying ``done``."""
        form = form_class(
            request.POST or None, initial={"version": obj.version, **(initial or {})}, **(form_kwargs or {})
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if self.run_service(request, lambda actor: call(data, actor), form) is not None:
                return self.done(request, done, self.object_url(obj), pk=obj.pk, label=str(obj))
        return self.render_action(
            request, title=title, form=form, obj=obj, submit=submit, extra={"confirm_text": confirm_text}
        )

    def done(self, request, message: str, obj_url: str, *, pk, label: str, added: bool = False) -> HttpResponseRedirect:
        """Tell the user, note the action under "Recent actions" on the admin index, and
        go to the page that shows its result."""
        messages.success(request, message)
        # The event store is the audit trail; this is only the admin's own list of what
        # the user did lately, written after the service has committed.
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(self.model).pk,
            object_id=str(pk),
            object_repr=label[:200],
            action_flag=ADDITION if added else CHANGE,
            change_message=message,
        )
        return HttpResponseRedirect(obj_url)

    def render_action(
        self,
        request: HttpRequest,
        *,
        title: str,
        form: BaseForm,
        obj=None,
        formsets: dict[str, BaseFormSet] | None = None,
        submit: str = "Save",
        template: str = "admin/ledger/action_form.html",
        extra: dict | None = None,
    ) -> TemplateResponse:
        media = form.media
        for formset in (formsets or {}).values():
            media += formset.media
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": str(obj) if obj is not None else None,
            "opts": self.opts,
            "original": obj,
            "form": form,
            "formsets": formsets or {},
            "submit_label": submit,
            "media": media,
            "changelist_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"),
            "object_url": self.object_url(obj) if obj is not None else None,
            **(extra or {}),
        }
        return TemplateResponse(request, template, context)

    def get_object(self, request, object_id, from_field=None):
        # The change view and its extra context both ask: one query, not two.
        cache = request.__dict__.setdefault("_books_objects", {})
        key = (self.opts.label, object_id, from_field)
        if key not in cache:
            cache[key] = super().get_object(request, object_id, from_field)
        return cache[key]

    def object_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"no {self.opts.verbose_name} {object_id}")
        return obj

    # --- the read-only page of one object ----------------------------------------------

    change_form_template = "admin/ledger/books_change_form.html"
    change_list_template = "admin/ledger/books_change_list.html"

    def detail_context(self, request, obj) -> dict:
        """Timeline, posted entries and action buttons of the object's page."""
        return {}

    def changelist_links(self, request) -> list[tuple[str, str]]:
        """(label, url) of buttons above the list besides "Add"."""
        return []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = self.detail_context(request, obj) if obj is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def changelist_view(self, request, extra_context=None):
        context = {
            "changelist_links": self.changelist_links(request),
            "add_label": self.add_label or f"Add {self.opts.verbose_name}",
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)
