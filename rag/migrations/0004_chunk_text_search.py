"""French full-text index over chunk contents, for the hybrid search (exact terms
such as "PPSPS" or a client's name are found even when embeddings miss them)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rag", "0003_company_required"),
        ("tenants", "0003_french_search_functions"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX idx_chunks_fts ON document_chunks USING gin (enpyco_fts(content));",
            "DROP INDEX idx_chunks_fts;",
        ),
    ]
