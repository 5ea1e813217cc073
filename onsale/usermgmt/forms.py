"""Forms of the account web pages. They only collect input; rules live in
services."""

from __future__ import annotations

from typing import Any

from django import forms


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254)
    full_name = forms.CharField(max_length=200, required=False, label="Name")
    password = forms.CharField(widget=forms.PasswordInput, max_length=256, strip=False)


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, max_length=256, strip=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(
            autocomplete="username", autofocus=True
        )
        self.fields["password"].widget.attrs.update(autocomplete="current-password")
