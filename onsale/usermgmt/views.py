"""Account web pages: sign up, log in, log out, account."""

from __future__ import annotations

import math

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from onsale.platform.clientip import client_ip
from onsale.platform.exceptions import DomainError
from onsale.usermgmt import services
from onsale.usermgmt.forms import LoginForm, SignupForm

_BACKEND = "django.contrib.auth.backends.ModelBackend"

# What the forms say for each domain error, in the fan's language. The API
# answers with the error's own (English) message and the same stable code; a
# code missing here shows that message.
_FORM_MESSAGES = {
    "email_taken": _("An account with this email already exists."),
    "weak_password": _("The password is too weak."),
    "invalid_email": _("This is not a valid email address."),
    "invalid_credentials": _("The email or password is wrong."),
    "organization_required": _("Organizers must belong to an organization."),
}


def _form_message(exc: DomainError) -> str:
    return str(_FORM_MESSAGES.get(exc.code, exc.message))


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/account/"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.user_create(**form.cleaned_data)
            except DomainError as exc:
                field = exc.extra.get("field")
                # The password validators' reasons are Django's, already in
                # the fan's language.
                reasons = exc.extra.get("reasons") or [_form_message(exc)]
                for reason in reasons:
                    form.add_error(field if field in form.fields else None, reason)
            else:
                login(request, user, backend=_BACKEND)
                return redirect(_next_url(request))
        status = 422
    return render(request, "usermgmt/signup.html", {"form": form}, status=status)


def _login_error_text(exc: DomainError) -> str:
    """The form's message; a refused attempt says how long to wait, in minutes
    (a fan reads "5 minutes" more easily than "300 seconds")."""
    if not exc.retry_after:
        return _form_message(exc)
    minutes = max(1, math.ceil(exc.retry_after / 60))
    wait = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {
        "count": minutes
    }
    return gettext(
        "Too many failed sign-ins from this network. "
        "Please wait %(wait)s and try again; other networks are not affected."
    ) % {"wait": wait}


@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.user_authenticate(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    ip=client_ip(request),
                )
            except DomainError as exc:
                form.add_error(None, _login_error_text(exc))
                status = 429 if exc.retry_after else 401
                response = render(
                    request,
                    "usermgmt/login.html",
                    {"form": form, "next": _next_url(request)},
                    status=status,
                )
                if exc.retry_after:
                    response["Retry-After"] = str(exc.retry_after)
                return response
            login(request, user, backend=_BACKEND)
            return redirect(_next_url(request))
        status = 422
    return render(
        request,
        "usermgmt/login.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("usermgmt:login")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "usermgmt/account.html", {"account": request.user})
