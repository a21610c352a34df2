from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from config.db.enums import EnumField
from config.db.fields import created_at, uuid_primary_key
from tenants.managers import CompanyQuerySet, UserManager

__all__ = ["Company", "CompanyChildModel", "Role", "TenantModel", "User"]


class Company(models.Model):
    """The tenant: a construction company and everything it owns."""

    id = uuid_primary_key()
    name = models.CharField(_("name"), max_length=255)
    address = models.TextField(_("address"), blank=True, null=True)
    city = models.CharField(_("city"), max_length=100, blank=True, null=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True, null=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True, null=True)
    email = models.EmailField(_("email"), max_length=255, blank=True, null=True)
    logo_url = models.TextField(_("logo URL"), blank=True, null=True)
    certifications = ArrayField(
        models.TextField(), verbose_name=_("certifications"), blank=True, null=True
    )
    settings = models.JSONField(_("settings"), default=dict, db_default={}, blank=True)

    #: Keys of ``settings`` written by their own page (the Word template's path, set by
    #: the memoir template page after its upload check): the settings form keeps them.
    MANAGED_SETTINGS = ("word_template",)
    created_at = created_at()

    objects = CompanyQuerySet.as_manager()

    class Meta:
        db_table = "companies"
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["name"], name="idx_companies_name"),
            GinIndex(fields=["settings"], name="idx_companies_settings"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Values of the ``user_role_enum`` type, in order."""

    ADMIN = "admin", _("Administrator")
    USER = "user", _("User")
    VIEWER = "viewer", _("Viewer")


class User(AbstractBaseUser, PermissionsMixin):
    """A member of a company (or a platform superuser, who belongs to none)."""

    id = uuid_primary_key()
    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="users",
        verbose_name=_("company"),
        db_index=False,
        null=True,
        blank=True,
    )
    email = models.EmailField(_("email"), max_length=255)
    password = models.CharField(_("password"), max_length=255, db_column="password_hash")
    full_name = models.CharField(_("full name"), max_length=255)
    role = EnumField(
        _("role"),
        enum_type="user_role_enum",
        choices=Role.choices,
        default=Role.USER,
        db_default=Role.USER,
    )
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=True,
        db_default=True,
        help_text=_("Whether the user can log into the admin."),
    )
    is_superuser = models.BooleanField(
        _("superuser status"),
        default=False,
        db_default=False,
        help_text=_("Platform operator: sees every company and has every permission."),
    )
    created_at = created_at()

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        db_table = "users"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        indexes = [models.Index(fields=["company"], name="idx_users_company_id")]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="idx_users_email",
                violation_error_message=_("A user with this email address already exists."),
            ),
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(is_superuser=True),
                name="users_company_required",
                violation_error_message=_(
                    "Every user except platform superusers belongs to a company."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class TenantModel(models.Model):
    """Base of every table that belongs to one company (``company_id`` NOT NULL)."""

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        verbose_name=_("company"),
        db_index=False,
    )

    class Meta:
        abstract = True


class CompanyChildModel(models.Model):
    """Base of the tables reached through a parent (a project's sections, a memoir's
    chunks…): they carry their company too, so that row-level security needs no join
    and the schema is ready for distribution by company. The database keeps it equal to
    the parent's (a foreign key on ``(company_id, parent_id)``); ``save`` fills it from
    the parent, which ``bulk_create`` and raw SQL must do themselves."""

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("company"),
        db_index=False,
        editable=False,
    )

    #: The field of the parent the company comes from (``"project"``…).
    company_parent = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.company_id is None and self.company_parent:
            self.company_id = getattr(self, self.company_parent).company_id
        super().save(*args, **kwargs)
