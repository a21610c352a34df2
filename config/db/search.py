"""French full-text search expressions, matching the SQL functions of
tenants.0003 so that queries use the expression indexes built on them."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchQueryField, SearchVectorField
from django.db.models import Func, Value


class FrenchDocument(Func):
    """``enpyco_fts(text)``: accent-folded French tsvector."""

    function = "enpyco_fts"
    output_field = SearchVectorField()


class FrenchQuery(SearchQuery):
    """``enpyco_fts_query(text)``: a web-search style query (quotes, OR, -word),
    accent-folded like the documents."""

    def __init__(self, text: str, *, invert: bool = False):
        self.function = "enpyco_fts_query"
        self.config = None
        self.invert = invert
        Func.__init__(self, Value(text), output_field=SearchQueryField())
