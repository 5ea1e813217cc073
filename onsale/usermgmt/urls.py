from django.urls import path

from onsale.usermgmt import apis, views

app_name = "usermgmt"

urlpatterns = [
    path("api/v1/auth/register", apis.UserRegisterApi.as_view(), name="api-register"),
    path("api/v1/auth/login", apis.UserLoginApi.as_view(), name="api-login"),
    path("api/v1/auth/logout", apis.UserLogoutApi.as_view(), name="api-logout"),
    path("api/v1/auth/me", apis.UserMeApi.as_view(), name="api-me"),
    path(
        "api/v1/organizations/<int:organization_id>/members",
        apis.OrganizationMemberListApi.as_view(),
        name="api-organization-members",
    ),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout_page, name="logout"),
    path("account/", views.account, name="account"),
]
