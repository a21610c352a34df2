"""Memoir search that answers French questions (issue 12).

* ``enpyco_words``: PostgreSQL's simple parser with the french stop list, for exact
  words with their accents folded by the caller (no ``unaccent`` extension needed);
* ``enpyco_chunk_fts(title, heading, content)``: a chunk's document, stored in
  ``document_chunks.search_document`` with its GIN index (replaces the expression index
  of rag.0004, which folded accents before the stemmer and ignored the headings);
* ``enpyco_chunk_query(stems, words)``: the query side (see config/db/search.py);
* ``document_chunks.embedding_384``: 384-dimension vectors in a column of their own,
  kept in the row (STORAGE MAIN);
* memoirs remember their file's SHA-256, unique per company;
* the vector indexes: HNSW (``rag.vector_index``), built here when the server has it
  and the table is small enough to build it in seconds; otherwise the legacy ivfflat
  index stays and the vector index job replaces it, concurrently, once a worker runs.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import pgvector.django.indexes
import pgvector.django.vector
from django.db import migrations, models

import config.db.search

SEARCH_FUNCTIONS = r"""
CREATE TEXT SEARCH DICTIONARY enpyco_word_dict (TEMPLATE = pg_catalog.simple, STOPWORDS = french);
CREATE TEXT SEARCH CONFIGURATION enpyco_words (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION enpyco_words
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword,
                      hword_asciipart, hword_part, hword_numpart
    WITH enpyco_word_dict;

CREATE FUNCTION enpyco_chunk_fts(title text, heading text, content text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('french'::regconfig, head), 'A')
        || setweight(to_tsvector('french'::regconfig, enpyco_unaccent(head)), 'A')
        || setweight(to_tsvector('french'::regconfig, body), 'B')
        || setweight(to_tsvector('french'::regconfig, enpyco_unaccent(body)), 'B')
        || setweight(to_tsvector('enpyco_words'::regconfig, enpyco_unaccent(head)), 'C')
        || setweight(to_tsvector('enpyco_words'::regconfig, enpyco_unaccent(body)), 'D')
    FROM (SELECT concat_ws(' ', title, heading) AS head, coalesce(content, '') AS body) AS parts
$$;

CREATE FUNCTION enpyco_chunk_query(stems text, words text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsquery('french'::regconfig, coalesce(stems, ''))
        || to_tsquery('french'::regconfig, enpyco_unaccent(coalesce(stems, '')))
        || to_tsquery('enpyco_words'::regconfig, enpyco_unaccent(coalesce(words, '')))
$$;
"""

DROP_SEARCH_FUNCTIONS = """
DROP FUNCTION enpyco_chunk_query(text, text);
DROP FUNCTION enpyco_chunk_fts(text, text, text);
DROP TEXT SEARCH CONFIGURATION enpyco_words;
DROP TEXT SEARCH DICTIONARY enpyco_word_dict;
"""

LEGACY_VECTOR_INDEX = (
    "CREATE INDEX document_chunks_embedding_idx ON document_chunks "
    "USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10)"
)


#: Embedded chunks up to which the migration builds an HNSW index itself (a few
#: seconds); past that the legacy index serves until the vector index job has built
#: one concurrently (rag.vector_index), so the migration stays short.
BUILD_MAX_ROWS = 5_000
HNSW = "USING hnsw ({column} vector_cosine_ops) WITH (m = 16, ef_construction = 64)"


def build_vector_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        version = tuple(int(x) for x in cursor.fetchone()[0].split(".")[:2])
        if version < (0, 5):  # no HNSW: the vector index job sizes an ivfflat index
            return
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM document_chunks "
            "WHERE embedding IS NOT NULL LIMIT %s) AS embedded",
            [BUILD_MAX_ROWS + 1],
        )
        if cursor.fetchone()[0] <= BUILD_MAX_ROWS:
            cursor.execute("DROP INDEX document_chunks_embedding_idx")
            cursor.execute(
                "CREATE INDEX document_chunks_embedding_idx ON document_chunks "
                + HNSW.format(column="embedding")
            )
        cursor.execute(
            "CREATE INDEX document_chunks_embedding_384_idx ON document_chunks "
            + HNSW.format(column="embedding_384")
        )


def restore_legacy_vector_index(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS document_chunks_embedding_384_idx")
        cursor.execute("DROP INDEX IF EXISTS document_chunks_embedding_idx")
        cursor.execute(LEGACY_VECTOR_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("rag", "0004_chunk_text_search"),
        ("tenants", "0003_french_search_functions"),
    ]

    operations = [
        migrations.RunSQL(SEARCH_FUNCTIONS, DROP_SEARCH_FUNCTIONS),
        migrations.RunSQL(
            "DROP INDEX idx_chunks_fts;",
            "CREATE INDEX idx_chunks_fts ON document_chunks USING gin (enpyco_fts(content));",
        ),
        migrations.AddField(
            model_name="documentchunk",
            name="search_document",
            field=models.GeneratedField(
                db_persist=True,
                expression=config.db.search.ChunkDocument(),
                output_field=django.contrib.postgres.search.SearchVectorField(),
                verbose_name="search document",
            ),
        ),
        migrations.AddIndex(
            model_name="documentchunk",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_document"], name="idx_chunks_search"
            ),
        ),
        migrations.AddField(
            model_name="documentchunk",
            name="embedding_384",
            field=pgvector.django.vector.VectorField(
                blank=True, dimensions=384, null=True, verbose_name="embedding (384 dimensions)"
            ),
        ),
        # A chunk row (text, stored document, 1.5 kB vector) passes 2 kB, past which
        # PostgreSQL moves its biggest values to TOAST: every distance and every "@@" of
        # the ranking then fetched them again (exact search of a 5,000-chunk company
        # 19 ms, ranking 60 buffer reads per candidate). A company's rows are spread over
        # the table, so reading one costs a page whatever its width: rows stay whole up
        # to a page (toast_tuple_target), and the vector stays in the row beyond
        # (STORAGE MAIN). Both apply to rows written from now on.
        migrations.RunSQL(
            "ALTER TABLE document_chunks SET (toast_tuple_target = 8160);"
            "ALTER TABLE document_chunks ALTER COLUMN embedding_384 SET STORAGE MAIN;",
            "ALTER TABLE document_chunks RESET (toast_tuple_target);"
            "ALTER TABLE document_chunks ALTER COLUMN embedding_384 SET STORAGE EXTERNAL;",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name="documentchunk", name="document_chunks_embedding_idx"
                ),
                migrations.AddIndex(
                    model_name="documentchunk",
                    index=pgvector.django.indexes.HnswIndex(
                        ef_construction=64,
                        fields=["embedding"],
                        m=16,
                        name="document_chunks_embedding_idx",
                        opclasses=["vector_cosine_ops"],
                    ),
                ),
                migrations.AddIndex(
                    model_name="documentchunk",
                    index=pgvector.django.indexes.HnswIndex(
                        ef_construction=64,
                        fields=["embedding_384"],
                        m=16,
                        name="document_chunks_embedding_384_idx",
                        opclasses=["vector_cosine_ops"],
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(build_vector_indexes, restore_legacy_vector_index),
            ],
        ),
        migrations.AddField(
            model_name="memoire",
            name="sha256",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, verbose_name="SHA-256"
            ),
        ),
        migrations.AddConstraint(
            model_name="memoire",
            constraint=models.UniqueConstraint(
                condition=models.Q(("sha256__isnull", False)),
                fields=("company", "sha256"),
                name="memoires_company_sha256_unique",
                violation_error_message="This company already has a memoir with this file.",
            ),
        ),
    ]
