"""French full-text search: the SQL functions and the Python expressions that call them,
in one place, so that queries use exactly the expressions the indexes are built on.

The functions are created by migrations (their SQL lives there, as history):

=========================  =====================================  ===========================
function                   what it returns                        created by
=========================  =====================================  ===========================
``enpyco_unaccent(text)``  the text with French accents folded    tenants.0003
``enpyco_fts(text)``       its French tsvector, accents folded     tenants.0003
``enpyco_fts_query(text)`` a web-search style French tsquery       tenants.0003
``enpyco_block_fts(…)``    a content block's weighted document     library.0002
``enpyco_project_fts(…)``  a project's name, client, location, lot projects.0004
``enpyco_chunk_fts(…)``    a memoir chunk's document (see below)  rag.0005
``enpyco_chunk_query(…)``  a query on chunk documents             rag.0005
``enpyco_audit_fts(…)``    the names an audit entry keeps         audit.0004
=========================  =====================================  ===========================

Memoir chunks are searched with questions ("Comment gère-t-on les déchets amiantés ?"),
so their document keeps what the French stemmer needs and what folding gives:

* stems of the accented text (the Snowball stemmer needs the accents: "électricité"
  and "électriques" both give ``électr``; folded, ``electricit`` and ``electr``) and
  stems of the folded text (so "equipement" typed without accent still meets
  "équipements"), weight A in the memoir title and heading path, B in the body;
* the exact words, accents folded, French stop words dropped (the ``enpyco_words``
  configuration: PostgreSQL's simple parser with the french stop list — no
  ``unaccent`` extension needed), weight C in the title and headings, D in the body.

``enpyco_chunk_query(stems, words)`` reads two ``to_tsquery`` texts built by
``rag.fulltext`` (only words and ``|``, ``:AB``-style weights): the first against the
stems (accented and folded), the second against the exact words.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchQueryField, SearchVectorField
from django.db.models import F, Func, Value
from django.db.models.fields.json import KeyTextTransform


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


class BlockDocument(Func):
    """``enpyco_block_fts(title, content, tags)``: the weighted French document of a
    block (title A, tags B, content C), stored in ``content_blocks.search_document``."""

    function = "enpyco_block_fts"

    def __init__(self):
        super().__init__(F("title"), F("content"), F("tags"), output_field=SearchVectorField())


class AuditDocument(Func):
    """``enpyco_audit_fts(details)``: the object's and the person's names kept in an
    audit entry, the expression of idx_audit_log_search."""

    function = "enpyco_audit_fts"

    def __init__(self):
        super().__init__(F("details"), output_field=SearchVectorField())


class ProjectDocument(Func):
    """``enpyco_project_fts(name, client, location, lot)``: the expression of
    idx_projects_fts."""

    function = "enpyco_project_fts"

    def __init__(self):
        super().__init__(
            F("name"), F("client"), F("location"), F("lot"), output_field=SearchVectorField()
        )


class ChunkDocument(Func):
    """``enpyco_chunk_fts(title, heading, content)``: the stored ``search_document`` of
    a memoir chunk (title and heading path from its metadata)."""

    function = "enpyco_chunk_fts"

    def __init__(self):
        super().__init__(
            KeyTextTransform("title", "metadata"),
            KeyTextTransform("heading", "metadata"),
            F("content"),
            output_field=SearchVectorField(),
        )


class ChunkQuery(Func):
    """``enpyco_chunk_query(stems, words)``: a tsquery on chunk documents (see above)."""

    function = "enpyco_chunk_query"

    def __init__(self, stems: str, words: str):
        super().__init__(Value(stems), Value(words), output_field=SearchQueryField())
