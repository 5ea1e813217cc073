from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from onsale.platform.admin import SupportAdmin
from onsale.usermgmt.models import AuditEntry, Organization, User


@admin.register(AuditEntry)
class AuditEntryAdmin(SupportAdmin[AuditEntry]):
    """The audit log, fully read-only: what was changed stays as it was
    recorded (nothing is editable, added or deleted here)."""

    list_display = ("created_at", "action", "actor_email", "organization", "event_id")
    list_filter = ("action",)
    search_fields = ("action", "actor_email", "=event_id", "organization__name")
    list_select_related = ("organization",)
    raw_id_fields = ("organization", "actor")
    date_hierarchy = "created_at"
    ordering = ("-id",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("name", "created_at")
    search_fields = ("name",)


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "role", "organization")


class UserChangeAdminForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):  # type: ignore[type-var]  # stubs want AbstractUser
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "organization", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role", "organization")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "role", "organization", "password1", "password2"),
            },
        ),
    )
