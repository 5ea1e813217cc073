"""Forms of the account web pages. They only collect input; rules live in
services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, label=_("Email"))
    full_name = forms.CharField(max_length=200, required=False, label=_("Name"))
    password = forms.CharField(
        widget=forms.PasswordInput, max_length=256, strip=False, label=_("Password")
    )


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254, label=_("Email"))
    password = forms.CharField(
        widget=forms.PasswordInput, max_length=256, strip=False, label=_("Password")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(
            autocomplete="username", autofocus=True
        )
        self.fields["password"].widget.attrs.update(autocomplete="current-password")
