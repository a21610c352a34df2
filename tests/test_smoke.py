def test_legacy_db_fixture_creates_the_four_legacy_tables(legacy_db):
    rows = legacy_db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    )
    assert [r[0] for r in rows] == ["document_chunks", "memoires", "projects", "sections"]
