from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

from django.contrib.auth.base_user import BaseUserManager
from django.db import models
from django.db.models import Max, Min
from django.db.models.functions import Lower
from django.utils import timezone

if TYPE_CHECKING:
    from tenants.models import Company


class CompanyRequired(LookupError):
    """A company-scoped query was asked for without a company: it fails closed rather
    than reading every company's rows."""


class TenantQuerySet(models.QuerySet):
    """QuerySet of rows owned by a company.

    ``company_path`` names the lookup from the model to its company, so tables reached
    through a parent (sections, matches…) are scoped the same way. Each model's
    queryset is a class of its own that sets it.
    """

    company_path = "company"

    def for_company(self, company: Company | uuid.UUID | str) -> TenantQuerySet:
        """The rows of ``company`` (an instance or its id). Raises CompanyRequired when
        ``company`` is None or empty: no caller gets every company's rows by mistake."""
        company_id = company_pk(company)
        return self.filter(**{self.company_path: company_id})

    def _years(self, field_name: str, order: str) -> list[int] | None:
        """Years from the first to the last row, read through two index lookups.

        The admin's date hierarchy asks for the distinct years of a list, which
        PostgreSQL answers by reading every row (tens of milliseconds on a company's
        100,000 projects). The years between the oldest and the newest row are what
        it shows anyway for data that accrues over time; months and days, asked for
        within one year or month, keep the exact query.
        """
        bounds = self.order_by().aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        first, last = (
            timezone.localtime(d)
            if isinstance(d, datetime.datetime) and timezone.is_aware(d)
            else d
            for d in (bounds["first"], bounds["last"])
        )
        years = list(range(first.year, last.year + 1))
        return years if order == "ASC" else years[::-1]

    def dates(self, field_name: str, kind: str, order: str = "ASC"):
        if kind != "year":
            return super().dates(field_name, kind, order)
        return [datetime.date(year, 1, 1) for year in self._years(field_name, order)]

    def datetimes(self, field_name: str, kind: str, order: str = "ASC", tzinfo=None):
        if kind != "year":
            return super().datetimes(field_name, kind, order, tzinfo)
        zone = tzinfo or timezone.get_current_timezone()
        return [
            datetime.datetime(year, 1, 1, tzinfo=zone) for year in self._years(field_name, order)
        ]


def company_pk(company) -> uuid.UUID | str:
    """The id of ``company`` (an instance or an id), or CompanyRequired."""
    company_id = getattr(company, "pk", company)
    if company_id in (None, ""):
        raise CompanyRequired("A company is required to read or change company data.")
    return company_id


class CompanyQuerySet(TenantQuerySet):
    company_path = "pk"


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
