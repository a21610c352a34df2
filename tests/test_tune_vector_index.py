import pytest

from tests.legacy_data import EMBEDDING

pytestmark = pytest.mark.migrations


def _index_definition(db) -> str:
    [(definition,)] = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'document_chunks_embedding_idx'"
    )
    return definition


def test_the_vector_index_is_rebuilt_for_the_data_and_keeps_its_name(scratch_db):
    scratch_db.manage("migrate")
    scratch_db.mark_leakproof()
    scratch_db.execute("INSERT INTO companies (id, name) VALUES (gen_random_uuid(), 'A')")
    scratch_db.execute(
        "INSERT INTO memoires (filename, storage_path, company_id) SELECT 'm', 'm', id FROM companies"
    )
    scratch_db.execute(
        "INSERT INTO document_chunks (memoire_id, company_id, content, embedding) "
        "SELECT m.id, m.company_id, 'c' || g, %s::vector FROM memoires m, generate_series(1, 30) g",
        [EMBEDDING],
    )

    out = scratch_db.manage("tune_vector_index").stdout
    assert "hnsw" in out and "30 vectors" in out
    assert (
        "USING hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')"
        in _index_definition(scratch_db)
    )

    scratch_db.manage("tune_vector_index", "--method", "ivfflat", "--lists", "3")
    assert "USING ivfflat (embedding vector_cosine_ops) WITH (lists='3')" in _index_definition(
        scratch_db
    )

    refused = scratch_db.manage(
        "tune_vector_index", "--m", "8", "--ef-construction", "4", check=False
    )
    assert refused.returncode == 1 and "ef_construction >= 2 * m" in refused.stderr
    assert "ivfflat" in _index_definition(scratch_db)  # unchanged
    assert "returned 5 rows" in scratch_db.manage("check_migration").stdout
