"""Account API: register, login, logout, me, organization members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.platform.clientip import client_ip
from onsale.usermgmt import selectors, services
from onsale.usermgmt.models import User
from onsale.usermgmt.permissions import IsOrganizer


class UserOutputSerializer(serializers.ModelSerializer[User]):
    organization = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "email", "full_name", "role", "organization", "date_joined")

    def get_organization(self, user: User) -> dict[str, Any] | None:
        if user.organization is None:
            return None
        return {"id": user.organization.pk, "name": user.organization.name}


class UserRegisterApi(APIView):
    """Create a fan account. Organizers and staff are created by staff
    (`create_user` command or the admin site)."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    class RegisterInputSerializer(serializers.Serializer[Any]):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=256, trim_whitespace=False)
        full_name = serializers.CharField(
            max_length=200, required=False, allow_blank=True
        )

    @extend_schema(
        request=RegisterInputSerializer, responses={201: UserOutputSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = self.RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserLoginApi(APIView):
    """Sign in: starts a session (cookie, new session id) for the web and
    returns a bearer token for API clients."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    class LoginInputSerializer(serializers.Serializer[Any]):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(
        request=LoginInputSerializer,
        responses={
            200: inline_serializer(
                "LoginOutput",
                {
                    "user": UserOutputSerializer(),
                    "token": serializers.CharField(),
                    "token_expires_at": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_authenticate(
            email=serializer.validated_data["email"],
            password=serializer.validated_data["password"],
            ip=client_ip(request._request),
        )
        # Django's login() cycles the session key: no session fixation.
        login(
            request._request, user, backend="django.contrib.auth.backends.ModelBackend"
        )
        token, expires_at = services.api_token_create(user=user)
        return Response(
            {
                "user": UserOutputSerializer(user).data,
                "token": token,
                "token_expires_at": expires_at,
            }
        )


class UserLogoutApi(APIView):
    """Sign out: revokes the bearer token used for this request (if any) and
    ends the session (if any)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            services.api_token_revoke(token=request.auth)
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserMeApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        return Response(UserOutputSerializer(request.user).data)


class OrganizationMemberListApi(APIView):
    """Members of an organization: for its own organizers and staff; 404 for
    everyone else."""

    permission_classes = (IsOrganizer,)

    @extend_schema(responses={200: UserOutputSerializer(many=True)})
    def get(self, request: Request, organization_id: int) -> Response:
        assert isinstance(request.user, User)
        organization = selectors.organization_get_for_viewer(
            organization_id=organization_id, viewer=request.user
        )
        members = selectors.organization_member_list(organization=organization)
        return Response(
            {
                "organization": {"id": organization.pk, "name": organization.name},
                "members": UserOutputSerializer(members, many=True).data,
            }
        )
