"""``manage.py benchmark --quick`` runs end to end (no timing is asserted)."""

import re

import pytest

from benchmarks.sizes import Sizes, uid
from benchmarks.stats import percentile, plan_facts


def test_benchmark_quick_runs_every_part_and_cleans_up(scratch_db):
    result = scratch_db.manage("benchmark", "--quick")
    out = result.stdout
    for heading in (
        "## 1. Queries through the ORM",
        "## 2. Admin changelists",
        "## 2b. Memoir upload and indexing",
        "## 3. Company-scoped semantic search",
        "## 4. Forward migration of a legacy database",
        "## 5. Matching and the coverage panel",
        "## 6. Memoir generation (assembly) and DOCX export",
        "## Targets missed",
    ):
        assert heading in out
    assert re.search(r"^\| query \| company \| median ms \| p95 ms \|", out, re.M)
    assert re.search(r"^\|---\|", out, re.M)
    assert "idx_projects_company" in out  # the plans name the indexes they use
    assert "vector_candidates (semantic)" in out
    assert "| document chunks | page 1 |" in out and "| memoir page | 50 chunks inline |" in out
    assert re.search(r"\| indexing job \([^)]+\) \| \d+ chunks in [\d.]+ s", out)
    assert "projects/s" in out and "Machine: " in out and "PostgreSQL" in out
    # Parts 5 and 6, on the library company (built with their vectors' origin said).
    assert "| content_blocks (library company) |" in out and "clustered random vectors" in out
    assert re.search(
        r"^\| matching job, 20 requirements, end to end \| [\d.]+ \| [\d.]+ \|", out, re.M
    )
    assert re.search(r"\d+ questions embedded per run", out)
    assert "| coverage panel (coverage + its HTML, matching_admin.panel) |" in out
    assert "| project change page with the panel (admin, test client) |" in out
    assert re.search(
        r"^\| 10-section memoir generated and exported \| [\d.]+ \|.*\| (✅|❌) \|$", out, re.M
    )
    assert re.search(r"^\| export job \(DOCX\), ~\d+ pages \| [\d.]+ \|", out, re.M)
    assert re.search(r"\d+ pages estimated by the exporter", out)

    # The scratch database is gone.
    name = re.search(r"Dropped database (benchmark_[0-9a-f]+)\.", result.stderr).group(1)
    assert scratch_db.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]) == [
        (0,)
    ]


def test_a_kept_database_is_measured_again_and_still_kept(scratch_db):
    first = scratch_db.manage("benchmark", "--quick", "--keep", "--only", "queries")
    name = re.search(r"--reuse (benchmark_[0-9a-f]+)", first.stderr).group(1)
    try:
        again = scratch_db.manage("benchmark", "--quick", "--reuse", name, "--only", "queries")
        assert "## 1. Queries through the ORM" in again.stdout
        assert f"Kept database {name}" in again.stderr
        assert scratch_db.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", [name]
        ) == [(1,)]
    finally:
        scratch_db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_reuse_refuses_a_database_it_did_not_build_and_leaves_it_alone(scratch_db):
    result = scratch_db.manage("benchmark", "--reuse", scratch_db.name, check=False)
    assert result.returncode == 1
    assert f"{scratch_db.name} is not a database built by this command" in result.stderr
    assert "Kept database" not in result.stderr
    # Not migrated either.
    assert scratch_db.execute("SELECT to_regclass('django_migrations')") == [(None,)]


def test_benchmark_refuses_unknown_parts(scratch_db):
    result = scratch_db.manage("benchmark", "--quick", "--only", "everything", check=False)
    assert result.returncode == 1
    assert "--only takes parts among" in result.stderr


def test_measure_mode_refuses_a_database_it_did_not_build(scratch_db):
    result = scratch_db.manage("benchmark", "--measure", "queries", check=False)
    assert result.returncode == 1
    assert "only on a database built by" in result.stderr


def test_sizes_and_ids_match_the_generator():
    full = Sizes.for_scale(1)
    assert (full.companies, full.projects, full.audit, full.big_rows, full.chunks) == (
        1_000,
        1_000_000,
        5_000_000,
        100_000,
        100_000,
    )
    assert full.big_count(full.projects) == 100_000
    assert full.big_count(full.audit) == 100_000
    shares = full.chunk_shares()
    assert len(shares) == 10 and sum(shares.values()) == 100_000
    assert sorted(shares.values())[-1] == 50_000 and sorted(shares.values())[0] == 1_000
    # md5('company:1:0')::uuid in SQL.
    assert str(uid("company", 1)) == "c97a33e4-bcf7-f36e-db4a-4aaf5ad2d648"


@pytest.mark.parametrize(("q", "expected"), [(50, 3), (95, 5), (100, 5)])
def test_percentile_is_nearest_rank(q, expected):
    assert percentile([5, 1, 4, 2, 3], q) == expected


def test_plan_facts_collects_indexes_and_sequential_scans():
    plan = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Plans": [
                    {"Node Type": "Index Scan", "Index Name": "idx_a"},
                    {"Node Type": "Seq Scan", "Relation Name": "t"},
                ],
            },
            "Planning Time": 0.1,
            "Execution Time": 0.2,
        }
    ]
    facts = plan_facts(plan)
    assert facts["indexes"] == ["idx_a"] and facts["seq_scans"] == ["t"]
    assert facts["execution_ms"] == 0.2 and facts["planning_ms"] == 0.1


def test_the_flow_project_has_20_requirements_and_10_sections():
    import datetime
    from types import SimpleNamespace

    from benchmarks import flow
    from projects.matching import requirements_of
    from projects.memoir.plan import plan_of
    from projects.rc import storage

    deadline = datetime.datetime(2030, 6, 1, 12, tzinfo=datetime.UTC)
    row = SimpleNamespace(**storage.to_columns(flow.rc_analysis(deadline)), confidence_score=0.9)
    requirements = requirements_of(row)
    assert len(requirements) == flow.REQUIREMENTS
    assert {r.level for r in requirements} == {"criterion", "subcriterion", "content"}
    assert "C1" not in {r.id for r in requirements}  # the price
    assert len(plan_of(storage.from_row(row))) == flow.SECTIONS


def test_long_sections_count_words_and_rows_as_the_exporter_does():
    import docx

    from benchmarks.flow import long_section
    from projects.memoir import export

    text, words, rows = long_section("Méthodologie", 5, 8, 3)
    counter = export.Counter()
    export.render_text(docx.Document(), text, 1, counter)
    assert (counter.words, counter.rows) == (words, rows) == (counter.words, 9)
