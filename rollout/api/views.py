"""Thin views of the rollout API: parse → service → serialize. Errors become
problem+json in ``finance.api.problems``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from finance.api.conditional import etag, if_match
from finance.api.idempotency import idempotent
from finance.api.pagination import LimitPagination
from finance.api.permissions import RolloutAccess
from rollout import services
from rollout.api.serializers import FlagChangeSerializer, FlagSerializer, FlagWriteSerializer
from rollout.decisions import flags_for
from rollout.models import ChangeSource, Flag

IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description='The flag\'s version as an ETag, e.g. "3".'
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Replays the first response."
)


def flag_response(flag: Flag, status_code: int = status.HTTP_200_OK, headers: dict | None = None) -> Response:
    flag = Flag.objects.prefetch_related("users", "groups", "deny_users", "deny_groups").get(pk=flag.pk)
    return Response(FlagSerializer(flag).data, status=status_code, headers={**etag(flag.version), **(headers or {})})


class ByName(LimitPagination):
    # Names are unique and never change: a stable cursor.
    ordering = "name"


class FlagListView(generics.ListAPIView):
    """Every flag (readers), or create one (operators)."""

    permission_classes = [RolloutAccess]
    serializer_class = FlagSerializer
    pagination_class = ByName
    queryset = Flag.objects.prefetch_related("users", "groups", "deny_users", "deny_groups")

    @extend_schema(request=FlagWriteSerializer, responses={201: FlagSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        body = FlagWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "name" not in body.validated_data:
            raise serializers.ValidationError({"name": ["This field is required."]})
        flag = services.flag_create(
            name=body.validated_data["name"],
            values=body.values(),
            reason=body.validated_data["reason"],
            actor=request.user.get_username(),
            source=ChangeSource.API,
        )
        return flag_response(flag, status.HTTP_201_CREATED, {"Location": f"{request.path}{flag.name}/"})


class FlagDetailView(APIView):
    """One flag (readers), or change some of its fields (operators)."""

    permission_classes = [RolloutAccess]

    @extend_schema(responses=FlagSerializer)
    def get(self, request, name: str):
        flag = generics.get_object_or_404(Flag, name=name)
        return flag_response(flag)

    @extend_schema(request=FlagWriteSerializer, responses=FlagSerializer, parameters=[IF_MATCH])
    def patch(self, request, name: str):
        expected = if_match(request)
        body = FlagWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data.get("name", name) != name:
            raise serializers.ValidationError({"name": ["A flag's name never changes."]})
        flag = services.flag_update(
            name=name,
            values=body.values(),
            reason=body.validated_data["reason"],
            actor=request.user.get_username(),
            source=ChangeSource.API,
            if_match=expected,
        )
        return flag_response(flag)


class FlagHistoryView(generics.ListAPIView):
    """The flag's audit log, newest first: who, when, from where, why, old → new."""

    permission_classes = [RolloutAccess]
    serializer_class = FlagChangeSerializer

    def get_queryset(self):
        return services.flag_history(name=self.kwargs["name"]).select_related("flag")


class MeView(APIView):
    """``{flag: true|false}`` for the caller, decided as on any of their requests."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: {"type": "object", "additionalProperties": {"type": "boolean"}}})
    def get(self, request):
        decisions = flags_for(request._request)
        return Response({name: decisions[name].value for name in decisions})
