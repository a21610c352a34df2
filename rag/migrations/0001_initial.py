"""The legacy ``memoires`` and ``document_chunks`` tables, their ivfflat index and the
``match_documents`` function, exactly as legacy_schema.sql has them.

A database created by the legacy application already holds them: adopt it with
``manage.py migrate --fake-initial``.
"""

import uuid

import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.datetime
import pgvector.django.indexes
import pgvector.django.vector
from django.db import migrations, models

from config.db.operations import CreateModelFromSQL

MATCH_DOCUMENTS = """
CREATE OR REPLACE FUNCTION match_documents(
    query_embedding vector(1536),
    match_count     int     DEFAULT 10,
    memoire_ids     uuid[]  DEFAULT NULL,
    min_similarity  float   DEFAULT 0.0
)
RETURNS TABLE (id uuid, content text, metadata jsonb, similarity float)
LANGUAGE sql STABLE
AS $$
    SELECT c.id, c.content, c.metadata, 1 - (c.embedding <=> query_embedding)
    FROM document_chunks c
    WHERE (memoire_ids IS NULL OR c.memoire_id = ANY (memoire_ids))
      AND 1 - (c.embedding <=> query_embedding) >= min_similarity
    ORDER BY c.embedding <=> query_embedding
    LIMIT match_count;
$$;
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        # Kept on reverse: other database objects may use the extension.
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS vector;", migrations.RunSQL.noop),
        CreateModelFromSQL(
            name="Memoire",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("filename", models.CharField(max_length=255, verbose_name="file name")),
                ("storage_path", models.CharField(max_length=500, verbose_name="storage path")),
                (
                    "client",
                    models.CharField(blank=True, max_length=255, null=True, verbose_name="client"),
                ),
                ("year", models.IntegerField(blank=True, null=True, verbose_name="year")),
                (
                    "indexed",
                    models.BooleanField(
                        db_default=False, default=False, null=True, verbose_name="indexed"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        null=True,
                        verbose_name="created at",
                    ),
                ),
            ],
            options={"db_table": "memoires"},
            sql="""
                CREATE TABLE memoires (
                    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    filename     varchar(255) NOT NULL,
                    storage_path varchar(500) NOT NULL,
                    client       varchar(255),
                    year         integer,
                    indexed      boolean DEFAULT false,
                    created_at   timestamptz DEFAULT now()
                );
            """,
            reverse_sql="DROP TABLE memoires;",
        ),
        CreateModelFromSQL(
            name="DocumentChunk",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("content", models.TextField(verbose_name="content")),
                (
                    "embedding",
                    pgvector.django.vector.VectorField(
                        blank=True, dimensions=1536, null=True, verbose_name="embedding"
                    ),
                ),
                ("metadata", models.JSONField(blank=True, null=True, verbose_name="metadata")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        editable=False,
                        null=True,
                        verbose_name="created at",
                    ),
                ),
                (
                    "memoire",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chunks",
                        to="rag.memoire",
                        verbose_name="memoir",
                    ),
                ),
            ],
            options={
                "db_table": "document_chunks",
                "indexes": [
                    models.Index(fields=["memoire"], name="idx_chunks_memoire"),
                    pgvector.django.indexes.IvfflatIndex(
                        fields=["embedding"],
                        lists=10,
                        name="document_chunks_embedding_idx",
                        opclasses=["vector_cosine_ops"],
                    ),
                ],
            },
            sql="""
                CREATE TABLE document_chunks (
                    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    memoire_id uuid NOT NULL REFERENCES memoires(id) ON DELETE CASCADE,
                    content    text NOT NULL,
                    embedding  vector(1536),
                    metadata   jsonb,
                    created_at timestamptz DEFAULT now()
                );
                CREATE INDEX idx_chunks_memoire ON document_chunks (memoire_id);
                CREATE INDEX document_chunks_embedding_idx ON document_chunks
                    USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10);
            """,
            reverse_sql="DROP TABLE document_chunks;",
        ),
        migrations.RunSQL(
            MATCH_DOCUMENTS,
            "DROP FUNCTION IF EXISTS match_documents(vector, int, uuid[], float);",
        ),
    ]
