from __future__ import annotations

from tenants.managers import TenantQuerySet


class DocumentChunkQuerySet(TenantQuerySet):
    company_path = "company"
