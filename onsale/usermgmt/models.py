"""Accounts: users identified by email, with one role each, organizations, and
the organizer audit log of what they changed."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A company that runs events. Organizers belong to exactly one and see only
    its events; fans belong to none."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    """Used by Django's own tooling (createsuperuser, admin). Application code
    creates users through `services.user_create`, which validates more."""

    def create_user(
        self, email: str, password: str | None = None, **fields: Any
    ) -> User:
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **fields: Any
    ) -> User:
        fields.update(is_staff=True, is_superuser=True, role=User.Role.STAFF)
        return self.create_user(email, password, **fields)


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively everywhere: store them lowercased."""
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. `role` decides what they may do: fans queue and
    buy, organizers run their organization's events, staff run the platform.
    An organizer always has an organization (a database constraint)."""

    class Role(models.TextChoices):
        FAN = "fan", _("Fan")
        ORGANIZER = "organizer", _("Organizer")
        STAFF = "staff", _("Staff")

    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.FAN)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    is_active = models.BooleanField(default=True)
    # Admin-site access; set for the staff role.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(role="organizer")
                | models.Q(organization__isnull=False),
                name="organizer_has_organization",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_organizer(self) -> bool:
        return self.role == self.Role.ORGANIZER and self.organization_id is not None

    @property
    def is_platform_staff(self) -> bool:
        return self.role == self.Role.STAFF


class AuditEntry(models.Model):
    """One organizer change: who did what to which event, with the values
    before and after, and when.

    Written by `audit.audit_record` inside the transaction of the change it
    describes, so a rolled-back change leaves no entry and a committed one
    always has one. `event_id` is a plain integer (no foreign key): the log
    outlives the event and the accounts app must not depend on the catalog.
    `actor_email` keeps who it was even if the user is deleted later; `actor`
    is empty for changes made by the system (demo loader, management commands).
    """

    organization = models.ForeignKey(
        "usermgmt.Organization", on_delete=models.CASCADE, related_name="+"
    )
    event_id = models.PositiveBigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=64)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Kept from when the log lived in the platform app: no data moved.
        db_table = "onsale_platform_auditentry"
        indexes: ClassVar = [
            models.Index(
                fields=["organization", "event_id", "-id"],
                name="audit_org_event_recent",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} on event {self.event_id} by {self.actor_email or 'system'}"
        )
