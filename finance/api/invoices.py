"""/api/v1/invoices/ — drafts, issue, void and the invoice list."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from finance import services
from finance.api.conditional import etag, if_match
from finance.api.filters import bool_param, choice_param
from finance.api.idempotency import idempotent
from finance.api.pagination import LimitPagination
from finance.api.serializers import InvoiceCreateIn, InvoiceLineIn, InvoiceOut, InvoiceUpdateIn, IssueIn, VoidIn
from finance.services.clock import today
from ledger import models

STATUSES = ("draft", "issued", "partially_paid", "paid", "void")


class InvoicePagination(LimitPagination):
    ordering = "-recorded_seq"


def _invoice_response(invoice_id, status: int = 200) -> Response:
    invoice = get_object_or_404(models.Invoice, id=invoice_id)
    return Response(InvoiceOut(invoice).data, status=status, headers=etag(invoice.version))


class InvoiceList(APIView):
    pagination_class = InvoicePagination  # also tells the OpenAPI document the page's shape

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(STATUSES)),
            OpenApiParameter("customer", str),
            OpenApiParameter("overdue", bool, description="issued or partially paid, and past the due date"),
            OpenApiParameter("limit", int),
        ],
        responses=InvoiceOut(many=True),
    )
    def get(self, request):
        invoices = models.Invoice.objects.all()
        status = choice_param(request, "status", STATUSES)
        if status:
            invoices = invoices.filter(status=status)
        if request.query_params.get("customer"):
            invoices = invoices.filter(customer=request.query_params["customer"])
        overdue = bool_param(request, "overdue")
        if overdue is not None:
            late = {"status__in": ("issued", "partially_paid"), "due_date__lt": today()}
            invoices = invoices.filter(**late) if overdue else invoices.exclude(**late)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(invoices, request, view=self)
        return paginator.get_paginated_response(InvoiceOut(page, many=True).data)

    @extend_schema(request=InvoiceCreateIn, responses={201: InvoiceOut})
    @idempotent
    def post(self, request):
        data = InvoiceCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        invoice = services.invoice_create(
            customer=values["customer"],
            currency=values["currency"],
            due_date=values["due_date"],
            lines=[InvoiceLineIn.to_line(line) for line in values["lines"]],
            actor=request.user.get_username(),
        )
        return _invoice_response(invoice.id, status=201)


class InvoiceDetail(APIView):
    @extend_schema(responses=InvoiceOut)
    def get(self, request, invoice_id):
        return _invoice_response(invoice_id)

    @extend_schema(request=InvoiceUpdateIn, responses=InvoiceOut)
    @transaction.atomic  # the response shows this write's state (see idempotency.py)
    def patch(self, request, invoice_id):
        data = InvoiceUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        get_object_or_404(models.Invoice, id=invoice_id)
        services.invoice_update(
            invoice_id=str(invoice_id),
            customer=values.get("customer"),
            due_date=values.get("due_date"),
            lines=[InvoiceLineIn.to_line(line) for line in values["lines"]] if "lines" in values else None,
            if_match=if_match(request),
            actor=request.user.get_username(),
        )
        return _invoice_response(invoice_id)


class InvoiceIssue(APIView):
    @extend_schema(request=IssueIn, responses=InvoiceOut)
    @idempotent
    def post(self, request, invoice_id):
        data = IssueIn(data=request.data)
        data.is_valid(raise_exception=True)
        get_object_or_404(models.Invoice, id=invoice_id)
        services.invoice_issue(
            invoice_id=str(invoice_id),
            issue_date=data.validated_data["issue_date"],
            if_match=if_match(request),
            actor=request.user.get_username(),
        )
        return _invoice_response(invoice_id)


class InvoiceVoid(APIView):
    @extend_schema(request=VoidIn, responses=InvoiceOut)
    @idempotent
    def post(self, request, invoice_id):
        data = VoidIn(data=request.data)
        data.is_valid(raise_exception=True)
        get_object_or_404(models.Invoice, id=invoice_id)
        services.invoice_void(
            invoice_id=str(invoice_id),
            **data.validated_data,
            if_match=if_match(request),
            actor=request.user.get_username(),
        )
        return _invoice_response(invoice_id)
