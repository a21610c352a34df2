from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit import services as audit
from tenants import login_throttle
from tenants.admin_base import TenantScopedAdmin, is_platform_admin
from tenants.admin_base.base import FrenchTitlesMixin
from tenants.admin_base.permissions import PermissionLabelsMixin
from tenants.forms import UserChangeForm, UserCreationForm
from tenants.models import Company, User


@admin.register(Company)
class CompanyAdmin(TenantScopedAdmin):
    list_display = ("name", "city", "email", "phone", "created_at")
    search_fields = ("name", "city", "email")
    ordering = ("name",)
    date_hierarchy = "created_at"
    # The logo is uploaded, checked and stored by the "Memoir Word template" page.
    readonly_fields = ("created_at", "word_template_page")
    fieldsets = (
        (None, {"fields": ("name", "email", "phone", "word_template_page")}),
        (_("Address"), {"fields": ("address", "postal_code", "city")}),
        (_("Qualifications"), {"fields": ("certifications",)}),
        (_("Settings"), {"fields": ("settings", "created_at"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("logo and Word template"))
    def word_template_page(self, obj) -> str:
        if obj is None or not obj.pk:
            return "—"
        url = reverse("admin:memoir_word_template_company", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Memoir Word template"))

    def save_model(self, request, obj, form, change):
        # The keys another page manages keep their stored value whatever the settings
        # box sent: a form opened before an upload must not drop it, nor a hand-typed
        # path point the export (or a later replacement) at another file.
        if change:
            stored = Company.objects.filter(pk=obj.pk).values_list("settings", flat=True).first()
            stored = stored if isinstance(stored, dict) else {}
            if isinstance(obj.settings, dict):
                for key in Company.MANAGED_SETTINGS:
                    obj.settings.pop(key, None)
                    if key in stored:
                        obj.settings[key] = stored[key]
        super().save_model(request, obj, form, change)

    def get_list_filter(self, request):
        return ()  # companies are not filtered by company

    def get_list_display(self, request):
        return self.list_display


@admin.register(User)
class UserAdmin(TenantScopedAdmin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("email", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    date_hierarchy = "created_at"
    readonly_fields = ("last_login", "created_at")
    filter_horizontal = ()
    fieldsets = None  # see get_fieldsets
    add_fieldsets = None
    actions = ("unlock",)

    _member_fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Member"), {"fields": ("full_name", "role", "is_active")}),
        (_("Dates"), {"fields": ("last_login", "created_at")}),
    )
    _platform_fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Member"), {"fields": ("company", "full_name", "role", "is_active")}),
        (
            _("Platform"),
            {
                "fields": ("is_staff", "is_superuser", "groups", "user_permissions"),
                "classes": ("collapse",),
            },
        ),
        (_("Dates"), {"fields": ("last_login", "created_at")}),
    )
    _add_fields = ("email", "full_name", "role", "usable_password", "password1", "password2")
    _member_add_fieldsets = ((None, {"classes": ("wide",), "fields": _add_fields}),)
    _platform_add_fieldsets = ((None, {"classes": ("wide",), "fields": ("company", *_add_fields)}),)

    def get_fieldsets(self, request, obj=None):
        # Chosen per request, never stored on the shared admin instance: a superuser's
        # request must not leave the platform fields for the next company admin.
        platform = is_platform_admin(request.user)
        if obj is None:
            fieldsets = self._platform_add_fieldsets if platform else self._member_add_fieldsets
        else:
            fieldsets = self._platform_fieldsets if platform else self._member_fieldsets
        hidden = self._hidden_fields(request, obj)
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]})
            for name, opts in fieldsets
        ]

    def get_queryset(self, request):
        # Platform superusers are managed by platform superusers only: a company's
        # members never see one, even a superuser given that company, so no company
        # admin can change their password, deactivate them or log in as them.
        queryset = super().get_queryset(request)
        if not is_platform_admin(request.user):
            queryset = queryset.filter(is_superuser=False)
        return queryset

    @admin.action(permissions=["change"], description=_("Unlock after failed logins"))
    def unlock(self, request, queryset):
        users = list(queryset.only("pk", "email", "company_id", "full_name"))
        for user in users:
            audit.record(
                login_throttle.UNLOCK,
                request=request,
                company_id=user.company_id,
                resource_type="user",
                resource_id=user.pk,
                details={"email": login_throttle.normalized(user.email), "object": str(user)},
            )
        self.message_user(
            request,
            ngettext(
                "%(count)d account unlocked: its earlier failed logins no longer count.",
                "%(count)d accounts unlocked: their earlier failed logins no longer count.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )


# --- Django's groups (platform superusers only): permissions listed in French ----------

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(FrenchTitlesMixin, PermissionLabelsMixin, DjangoGroupAdmin):
    pass
