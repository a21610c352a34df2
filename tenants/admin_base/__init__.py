"""The one mechanism that scopes the admin to the staff member's company.

Every ModelAdmin and inline of the project derives from ``TenantScopedAdmin`` /
``TenantScopedInline``. For a member of a company (anyone but a platform superuser):

* the changelist, change, delete and history pages, actions and the delete
  confirmation read through ``get_queryset``, filtered to the company by the model's
  ``TenantQuerySet.for_company`` — another company's id is simply not found, exactly
  like an id that does not exist (``scoping``);
* every foreign-key and many-to-many form field (and so its validation on POST),
  autocomplete answers, raw-id labels (``widgets``) and ``list_filter`` choices
  (``filters``) only offer the company's rows;
* ``company`` and the creator field (``created_by`` / ``uploaded_by``) are set from the
  request, never read from the form.

Every save, deletion and inline change made through these admins is also written to
the audit trail (``audit.admin_hooks``).
"""

from tenants.admin_base import filters  # noqa: F401  (registers the scoped list filters)
from tenants.admin_base.base import TenantScopedAdmin, TenantScopedInline
from tenants.admin_base.scoping import (
    companies_of,
    company_of,
    is_platform_admin,
    scope_queryset,
    scope_related,
)

__all__ = [
    "TenantScopedAdmin",
    "TenantScopedInline",
    "companies_of",
    "company_of",
    "is_platform_admin",
    "scope_queryset",
    "scope_related",
]
