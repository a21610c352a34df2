from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.base_user import BaseUserManager
from django.db import models
from django.db.models.functions import Lower

if TYPE_CHECKING:
    from tenants.models import Company


class TenantQuerySet(models.QuerySet):
    """QuerySet of rows owned by a company.

    ``company_path`` names the lookup from the model to its company, so tables that
    hold no ``company_id`` of their own (sections, matches…) are scoped through their
    parent the same way.
    """

    company_path = "company"

    def for_company(self, company: Company | int | str | None) -> TenantQuerySet:
        if company is None:
            return self.none()
        return self.filter(**{self.company_path: company})


def tenant_queryset(path: str) -> type[TenantQuerySet]:
    """A TenantQuerySet subclass scoped through ``path`` (e.g. ``"project__company"``)."""
    return type(f"TenantQuerySet_{path}", (TenantQuerySet,), {"company_path": path})


class UserQuerySet(TenantQuerySet):
    def alias_email(self) -> UserQuerySet:
        """Alias ``email_lower``, the expression of the unique index idx_users_email."""
        return self.alias(email_lower=Lower("email"))

    def get_by_email(self, email: str):
        """Look a user up case-insensitively through the ``lower(email)`` unique index."""
        return self.alias_email().get(email_lower=email.strip().lower())


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username: str):
        return self.get_queryset().get_by_email(username)

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", "admin")
        return self._create_user(email, password, **extra)
