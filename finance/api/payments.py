"""/api/v1/payments/ — recording, allocating and refunding payments."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from finance import services
from finance.api.conditional import etag, if_match
from finance.api.filters import choice_param
from finance.api.idempotency import idempotent
from finance.api.pagination import LimitPagination
from finance.api.serializers import AllocationIn, PaymentCreateIn, PaymentOut, RefundIn
from ledger import models

STATUSES = ("unallocated", "partially_allocated", "allocated", "refunded")


class PaymentPagination(LimitPagination):
    ordering = "-recorded_seq"


def _payments():
    return models.Payment.objects.prefetch_related(
        Prefetch("allocation_rows", queryset=models.Allocation.objects.order_by("id"))
    )


def _payment_response(payment_id, status: int = 200) -> Response:
    payment = get_object_or_404(_payments(), id=payment_id)
    return Response(PaymentOut(payment).data, status=status, headers=etag(payment.version))


class PaymentList(APIView):
    pagination_class = PaymentPagination  # also tells the OpenAPI document the page's shape

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", str),
            OpenApiParameter("status", str, enum=list(STATUSES)),
            OpenApiParameter("limit", int),
        ],
        responses=PaymentOut(many=True),
    )
    def get(self, request):
        payments = _payments()
        if request.query_params.get("customer"):
            payments = payments.filter(customer=request.query_params["customer"])
        status = choice_param(request, "status", STATUSES)
        if status:
            payments = payments.filter(status=status)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(payments, request, view=self)
        return paginator.get_paginated_response(PaymentOut(page, many=True).data)

    @extend_schema(request=PaymentCreateIn, responses={201: PaymentOut})
    @idempotent
    def post(self, request):
        data = PaymentCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["allocations"] = [AllocationIn.to_allocation(item) for item in values["allocations"]]
        payment = services.payment_record(**values, actor=request.user.get_username())
        return _payment_response(payment.id, status=201)


class PaymentDetail(APIView):
    @extend_schema(responses=PaymentOut)
    def get(self, request, payment_id):
        return _payment_response(payment_id)


class PaymentAllocate(APIView):
    @extend_schema(request=AllocationIn, responses=PaymentOut)
    @idempotent
    def post(self, request, payment_id):
        data = AllocationIn(data=request.data)
        data.is_valid(raise_exception=True)
        get_object_or_404(models.Payment, id=payment_id)
        services.payment_allocate(
            payment_id=str(payment_id),
            invoice_id=str(data.validated_data["invoice"]),
            amount=data.validated_data["amount"],
            if_match=if_match(request),
            actor=request.user.get_username(),
        )
        return _payment_response(payment_id)


class PaymentRefund(APIView):
    @extend_schema(request=RefundIn, responses=PaymentOut)
    @idempotent
    def post(self, request, payment_id):
        data = RefundIn(data=request.data)
        data.is_valid(raise_exception=True)
        get_object_or_404(models.Payment, id=payment_id)
        services.payment_refund(
            payment_id=str(payment_id),
            **data.validated_data,
            if_match=if_match(request),
            actor=request.user.get_username(),
        )
        return _payment_response(payment_id)
