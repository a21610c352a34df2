from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db.models import F, Func

from config.db.search import FrenchQuery
from tenants.managers import TenantQuerySet


class ProjectDocument(Func):
    """``enpyco_project_fts(name, client, location, lot)``: the expression of
    idx_projects_fts."""

    function = "enpyco_project_fts"

    def __init__(self):
        super().__init__(
            F("name"), F("client"), F("location"), F("lot"), output_field=SearchVectorField()
        )


class ProjectQuerySet(TenantQuerySet):
    def matching(self, text: str) -> ProjectQuerySet:
        """Projects whose name, client, location or lot match ``text`` in French
        (accents and plurals folded), through the GIN index."""
        return self.alias(document=ProjectDocument()).filter(document=FrenchQuery(text))
