"""Domain errors of accounts and sign-in."""

from onsale.platform.exceptions import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    RateLimited,
)


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email already exists."


class WeakPassword(InvalidInput):
    code = "weak_password"
    message = "The password is too weak."


class InvalidEmail(InvalidInput):
    code = "invalid_email"
    message = "This is not a valid email address."


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    message = "The email or password is wrong."


class LoginThrottled(RateLimited):
    code = "login_throttled"
    message = "Too many failed sign-ins from this network; wait before trying again."


class OrganizationRequired(InvalidInput):
    code = "organization_required"
    message = "Organizers must belong to an organization."
