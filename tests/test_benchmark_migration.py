def test_benchmark_migration_runs_at_small_scale_and_cleans_up(scratch_db):
    result = scratch_db.manage("benchmark_migration", "--projects", "70")
    assert "Legacy database: 70 projects, 210 sections" in result.stdout
    assert "projects/s" in result.stdout and "legacy rows/s" in result.stdout
    leftovers = scratch_db.execute(
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'bench_migration_%'"
    )
    assert leftovers == [(0,)]


def test_benchmark_migration_refuses_a_nonsense_size(scratch_db):
    result = scratch_db.manage("benchmark_migration", "--projects", "0", check=False)
    assert result.returncode == 1
    assert "--projects must be at least 1" in result.stderr
    assert scratch_db.execute(
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'bench_migration_%'"
    ) == [(0,)]
