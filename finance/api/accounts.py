"""/api/v1/accounts/ — the chart of accounts."""

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from finance import services
from finance.api.conditional import etag, if_match
from finance.api.filters import bool_param, choice_param, date_param
from finance.api.idempotency import idempotent
from finance.api.pagination import LimitPagination
from finance.api.serializers import AccountCreateIn, AccountOut, AccountUpdateIn
from finance.domain import money
from finance.domain.chart import ACCOUNT_TYPES
from finance.domain.errors import RuleViolation
from ledger import models, selectors


def _account_response(code: str, status: int = 200) -> Response:
    account = get_object_or_404(models.Account, code=code)
    return Response(AccountOut(account).data, status=status, headers=etag(account.version))


class AccountPagination(LimitPagination):
    ordering = "code"


class AccountList(APIView):
    pagination_class = AccountPagination  # also tells the OpenAPI document the page's shape

    @extend_schema(
        parameters=[
            OpenApiParameter("type", str, enum=list(ACCOUNT_TYPES)),
            OpenApiParameter("active", bool),
            OpenApiParameter("limit", int),
        ],
        responses=AccountOut(many=True),
    )
    def get(self, request):
        accounts = models.Account.objects.all()
        account_type = choice_param(request, "type", ACCOUNT_TYPES)
        if account_type:
            accounts = accounts.filter(type=account_type)
        active = bool_param(request, "active")
        if active is not None:
            accounts = accounts.filter(active=active)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(accounts, request, view=self)
        return paginator.get_paginated_response(AccountOut(page, many=True).data)

    @extend_schema(request=AccountCreateIn, responses={201: AccountOut})
    @idempotent
    def post(self, request):
        data = AccountCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.account_open(**data.validated_data, actor=request.user.get_username())
        return _account_response(account.code, status=201)


class AccountDetail(APIView):
    @extend_schema(responses=AccountOut)
    def get(self, request, code):
        return _account_response(code)

    @extend_schema(request=AccountUpdateIn, responses=AccountOut)
    @transaction.atomic  # the response shows this write's state (see idempotency.py)
    def patch(self, request, code):
        data = AccountUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        get_object_or_404(models.Account, code=code)
        services.account_update(
            code=code,
            name=data.validated_data.get("name"),
            parent=data.validated_data.get("parent", ...),
            if_match=if_match(request),
            actor=request.user.get_username(),
        )
        return _account_response(code)


class AccountDeactivate(APIView):
    @extend_schema(request=None, responses=AccountOut)
    @idempotent
    def post(self, request, code):
        get_object_or_404(models.Account, code=code)
        services.account_deactivate(code=code, if_match=if_match(request), actor=request.user.get_username())
        return _account_response(code)


class AccountReactivate(APIView):
    @extend_schema(request=None, responses=AccountOut)
    @idempotent
    def post(self, request, code):
        get_object_or_404(models.Account, code=code)
        services.account_reactivate(code=code, if_match=if_match(request), actor=request.user.get_username())
        return _account_response(code)


class StatementLineOut(serializers.Serializer):
    date = serializers.DateField()
    entry = serializers.UUIDField()
    description = serializers.CharField()
    memo = serializers.CharField()
    debit = serializers.CharField()
    credit = serializers.CharField()
    balance = serializers.CharField()


class StatementOut(serializers.Serializer):
    account = serializers.CharField()
    currency = serializers.CharField()
    opening_balance = serializers.CharField()
    lines = StatementLineOut(many=True)
    closing_balance = serializers.CharField()


class AccountStatement(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("to", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("currency", str, description="ISO 4217; default FINANCE_BASE_CURRENCY"),
        ],
        responses=StatementOut,
    )
    def get(self, request, code):
        get_object_or_404(models.Account, code=code)
        currency = request.query_params.get("currency", settings.FINANCE_BASE_CURRENCY)
        if not money.is_currency(currency):
            raise RuleViolation.on("currency", "is not an ISO 4217 currency")
        statement = selectors.account_statement(
            code, currency=currency, date_from=date_param(request, "from"), date_to=date_param(request, "to")
        )
        return Response(statement)
