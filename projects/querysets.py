from __future__ import annotations

from config.db.search import FrenchQuery, ProjectDocument
from tenants.managers import TenantQuerySet


class ProjectChildQuerySet(TenantQuerySet):
    """Rows of a project (sections, matches, analyses, generation requests)."""

    company_path = "company"


class ProjectQuerySet(TenantQuerySet):
    def matching(self, text: str) -> ProjectQuerySet:
        """Projects whose name, client, location or lot match ``text`` in French
        (accents and plurals folded), through the GIN index."""
        return self.alias(document=ProjectDocument()).filter(document=FrenchQuery(text))
