"""The Markdown report: one table per part, the machine, the command line."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import psycopg

from benchmarks.queries import WARMUP_RUNS

OK, MISSED = "✅", "❌"


def machine(conninfo: dict) -> dict:
    cpu = platform.processor() or platform.machine()
    ram_gb = None
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024 / 1024
    with psycopg.connect(**conninfo, dbname="postgres", autocommit=True) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        pgvector = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "shared_buffers",
                "work_mem",
                "random_page_cost",
                "effective_cache_size",
                "jit",
            )
        }
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "postgresql": server,
        "pgvector": pgvector[0] if pgvector else None,
        "settings": settings,
        "python": platform.python_version(),
        # What else ran on the cores: the 1-minute load average (at the end, added by
        # the command).
        "load_start": os.getloadavg()[0],
    }


def _ms(value) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _verdict(ok) -> str:
    return "" if ok is None else OK if ok else MISSED


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def render(results: dict) -> str:
    m = results["machine"]
    sizes = results.get("sizes", {})
    out = [
        "# Benchmark results",
        "",
        f"Command: `{results['command']}`  ",
        f"Date: {results['date']}  ",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), "
        + (f"{m['ram_gb']:.0f} GB RAM" if m["ram_gb"] else "RAM unknown")
        + f"; PostgreSQL {m['postgresql']}, pgvector {m['pgvector']}; "
        + ", ".join(f"{k} {v}" for k, v in m["settings"].items())
        + f"; Python {m['python']}."
        + (
            f" Load average (1 min) at the start and the end of the run: "
            f"{m['load_start']:.1f} / {m['load_end']:.1f}."
            if m.get("load_start") is not None and m.get("load_end") is not None
            else ""
        ),
        "",
    ]
    library_only = set(results.get("parts") or ()) <= {"matching", "generation"}
    if sizes and library_only:
        out += [
            "Dataset: the library company of parts 5 and 6 only (below). Timings are over "
            f"{results['repeat']} runs after a warm-up run.",
            "",
        ]
    elif sizes:
        out += [
            f"Dataset (scale {sizes['scale']:g}): {sizes['companies']:,} companies, "
            f"{sizes['projects']:,} projects, {sizes['blocks']:,} content blocks, "
            f"{sizes['audit']:,} audit rows; one company with {sizes['big_rows']:,} projects, "
            f"content blocks and audit rows; {sizes['chunks']:,} chunks of 384 dimensions "
            f"in 10 companies; {sizes['legacy_projects']:,} legacy projects for part 4. "
            f"Timings are over {results['repeat']} runs after a warm-up run "
            "(part 1 runs each query more, as it says).",
            "",
        ]
    if results.get("proposals"):
        out += [
            "**Measured with the proposed indexes** (`--proposals`: created in the scratch "
            "database for this run, see `benchmarks/proposals.py`):",
            "",
            *(f"- {line}" for line in results["proposals"]),
            "",
        ]
    build = results.get("build") or {}
    if build:
        out += ["## Dataset build", ""]
        rows = []
        for part in ("relational", "vectors", "library"):
            info = build.get(part)
            if not info:
                continue
            for table, t in info["tables"].items():
                rows.append(
                    [
                        table,
                        f"{t['rows']:,}",
                        f"{t['insert']:.1f}",
                        f"{t['indexes']:.1f}",
                        f"{t['vacuum']:.1f}",
                    ]
                )
            rows.append([f"**{part} total (wall)**", "", "", "", f"**{info['total']:.1f}**"])
        out += _table(["table", "rows", "insert s", "index builds s", "VACUUM ANALYZE s"], rows)
        out += [
            "",
            "Secondary indexes dropped during the load and rebuilt after it (as defined by "
            "the migrations), two tables at a time; total = wall time of the part.",
            "",
        ]
        library = build.get("library")
        if library:
            rebuilt = library.get("rebuilt_indexes") or []
            out += [
                "The library company's rows go through the indexes of the tables that "
                "already hold the rest of the dataset"
                + (
                    f"; {', '.join(rebuilt)} held little else and had theirs rebuilt."
                    if rebuilt
                    else "."
                ),
                "",
            ]
            out += [
                f"Library company (parts 5 and 6): {library['active_blocks']:,} active content "
                f"blocks (+{library['archived_blocks']:,} archived) of the types CV 30 %, "
                "equipment 25 %, reference 20 %, procedure 12 %, methodology 7 %, "
                "certification 5 %, company profile 1 %, with their typed facts "
                "(qualifications, inspections, certificates' dates…; about one dated block "
                f"in six expired), and {library['chunks']:,} memoir chunks. Their vectors are "
                "clustered random vectors, not computed by the model (10,000 embeddings "
                "would take it half an hour here): "
                + (
                    f"{library['dimensions']} dimensions recorded as {library['model']}'s, "
                    "so matching and the memoir search take their semantic path, with "
                    "similarities that mean nothing."
                    if library["model"]
                    else f"{library['note']}."
                ),
                "",
            ]
        if build.get("reused"):
            out += [f"Database reused: {build['reused']} (not rebuilt).", ""]

    if "queries" in results:
        runs = results["queries"][0]["runs"] if results["queries"] else 0
        out += [
            "## 1. Queries through the ORM",
            "",
            f"Each query timed over {runs} runs, after {WARMUP_RUNS} warm-up runs. "
            "median and p95: wall time of `list(queryset)` (queryset built, SQL compiled and "
            "sent, model instances made); raw: median of the same SQL through a plain cursor "
            "(`execute` + `fetchall`); SQL: planning + execution time on the server "
            "(`EXPLAIN (ANALYZE, FORMAT JSON)`); plan: the indexes (and sequential scans) of "
            "that plan.",
            "",
        ]
        rows = [
            [
                r["query"],
                r["company"],
                _ms(r["median_ms"]),
                _ms(r["p95_ms"]),
                _ms(r["raw_ms"]),
                _ms(r["sql_ms"]),
                r["rows"],
                r["plan"],
            ]
            for r in results["queries"]
        ]
        out += _table(
            [
                "query",
                "company",
                "median ms",
                "p95 ms",
                "raw ms",
                "SQL ms",
                "rows",
                "plan / indexes",
            ],
            rows,
        )
        out.append("")

    if "admin" in results:
        out += [
            "## 2. Admin changelists (test client, company administrator, 50 rows a page)",
            "",
            "queries: SQL queries of the page for the big company / for a typical company "
            "(must be equal); COUNT(*): the counts the page runs (full = counts every "
            "matching row of the company; capped/estimated would be fine); DISTINCT: "
            "`SELECT DISTINCT` queries (list filters, date hierarchy).",
            "",
        ]
        rows = []
        for r in results["admin"]:
            counts = "; ".join(
                ("unscoped" if not c["scoped"] else "capped" if c["capped"] else "full")
                + f" {_ms(c['ms'])} ms"
                for c in r["counts"]
            )
            distinct = "; ".join(f"{_ms(d['ms'])} ms" for d in r["distinct"])
            rows.append(
                [
                    r["changelist"],
                    r["variant"],
                    _ms(r["median_ms"]),
                    _ms(r["p95_ms"]),
                    f"{r['queries']} / {r['queries_small']}",
                    _ms(r["sql_ms"]),
                    counts or "none",
                    distinct or "none",
                    f"< {r['target_ms']:g} ms",
                    _verdict(r["ok"]) + (" " + ", ".join(r["problems"]) if r["problems"] else ""),
                ]
            )
        out += _table(
            [
                "changelist",
                "page",
                "median ms",
                "p95 ms",
                "queries (big / typical)",
                "SQL ms",
                "COUNT(*)",
                "DISTINCT",
                "target",
                "",
            ],
            rows,
        )
        out += ["", "<details><summary>Slowest queries of each page</summary>", ""]
        for r in results["admin"]:
            out.append(f"- **{r['changelist']} — {r['variant']}** (`{r['url']}`)")
            out += [f"  - {_ms(q['ms'])} ms: `{q['sql']}`" for q in r["slowest"]]
        out += ["", "</details>", ""]

    if "uploads" in results:
        u = results["uploads"]
        out += [
            "## 2b. Memoir upload and indexing",
            "",
            f"A {u['bytes'] / 1000:.0f} KB text memoir posted to the admin's add form (test "
            "client, company administrator): the request stores the file and queues its "
            "indexing job. The job is then run as a worker runs it, with the configured "
            "embedding backend.",
            "",
        ]
        out += _table(
            ["measure", "median", "p95", "target", ""],
            [
                [
                    "upload request",
                    f"{_ms(u['median_ms'])} ms",
                    f"{_ms(u['p95_ms'])} ms",
                    f"< {u['target_ms']:g} ms",
                    _verdict(u["median_ms"] < u["target_ms"]),
                ],
                [
                    f"indexing job ({u['model']})",
                    f"{u['chunks']} chunks in {u['indexing_s']:.1f} s "
                    f"({u['chunks_per_s']:.1f} chunks/s)",
                    "—",
                    "succeeds, ≤ 90 s per 500 chunks"
                    + (f" ({u['indexing_target_s']:.0f} s)" if "indexing_target_s" in u else ""),
                    _verdict(
                        u["status"] == "succeeded"
                        and u["indexing_s"] <= u.get("indexing_target_s", float("inf"))
                    )
                    + (f" {u['error']}" if u["error"] else ""),
                ],
            ],
        )
        out.append("")

    if "vector" in results:
        v = results["vector"]
        out += [
            "## 3. Company-scoped semantic search (`rag.search`)",
            "",
            f"Vector index: `{v.get('index_definition') or v['index']}`. Exact search for a "
            f"company up to {v['threshold']:,} chunks"
            + (
                f" (RAG_EXACT_SEARCH_MAX_CHUNKS {v['configured_threshold']:,} scaled with the "
                "chunks)"
                if v["threshold"] != v["configured_threshold"]
                else " (RAG_EXACT_SEARCH_MAX_CHUNKS)"
            )
            + ". Each query is a chunk of the company moved by noise; recall@10 against "
            "the exact top 10. End to end, the question is embedded by "
            f"{v.get('embedding_model', '—')} (its time counted).",
            "",
        ]
        rows = [
            [
                r["company"],
                r["call"],
                r["plan"],
                _ms(r["median_ms"]),
                _ms(r["p95_ms"]),
                "—"
                if r["recall_mean"] is None
                else f"{r['recall_mean']:.3f} ({r['recall_min']:.2f})",
                r["min_results"],
                r["target"],
                _verdict(r["ok"]),
            ]
            for r in v["rows"]
        ]
        out += _table(
            [
                "company",
                "call",
                "plan",
                "median ms",
                "p95 ms",
                "recall@10 mean (min)",
                "fewest results",
                "target",
                "",
            ],
            rows,
        )
        warmed = [r for r in v["rows"] if r.get("warmup_runs")]
        if warmed:
            out += [
                "",
                "Before the timed queries, each company ran "
                f"{warmed[0]['warmup_runs']} other queries untimed, as a server in use "
                "would have (its vector index in memory); their median: "
                + "; ".join(f"{_ms(r['warmup_median_ms'])} ms ({r['company']})" for r in warmed)
                + ".",
                "",
            ]
        out.append("")

    if "layout" in results:
        rows = results["layout"]["rows"]
        out += [
            "## 3b. 384-dimension vectors: zero-padded in vector(1536) or a column of their own",
            "",
            f"The same {rows[0]['rows']:,} clustered vectors stored both ways, each with the "
            "migrations' HNSW index (m 16, ef_construction 64); a query through the index "
            "(40 results, ef_search 100) and an exact search of one company's 10 %.",
            "",
        ]
        out += _table(
            [
                "layout",
                "HNSW build s",
                "index MB",
                "table MB",
                "HNSW query median ms",
                "exact (10 %) median ms",
            ],
            [
                [
                    r["layout"],
                    f"{r['build_s']:.1f}",
                    f"{r['index_mb']:.0f}",
                    f"{r['table_mb']:.0f}",
                    _ms(r["hnsw"]["median_ms"]),
                    _ms(r["exact"]["median_ms"]),
                ]
                for r in rows
            ],
        )
        out.append("")

    if "matching" in results:
        m = results["matching"]
        load = m.get("model_load_s")
        out += [
            "## 5. Matching and the coverage panel",
            "",
            f"A project whose RC analysis has {m['requirements']} requirements (the technical "
            "value's 8 sub-criteria, the environment's 2, the criteria themselves and 8 "
            "required contents; the price left out) matched against the library company: "
            "`projects.matching.queue_matching(…, now=True)`, the job run as a worker runs "
            "it, inline (transitions, candidates, scores, memoir passages, rows written). "
            f"Every requirement and passage search is embedded by {m['model']} (counted); "
            + (
                f"the model's load ({load:.1f} s) is not."
                if load is not None
                else "no model could be loaded."
            )
            + f" Then {m['approved']} proposals are approved (the best 3 blocks and passage "
            "of each requirement, three requirements left without) and the coverage is timed.",
            "",
        ]
        out += _flow_table(m["rows"])
        out.append("")

    if "generation" in results:
        g = results["generation"]
        out += [
            "## 6. Memoir generation (assembly) and DOCX export",
            "",
            'The same project: `generation.queue_generation(…, backend="assembly", '
            "now=True)` writes its 10 sections from the approved content (each section's "
            f"{g['passages']} best memoir passages searched, the question embedded by "
            f"{g['model']}), then `export.queue_export(…, now=True)` builds and stores the "
            "DOCX; both jobs run as a worker runs them. Then the export job alone for a "
            f"project of 10 written sections making {g['big_pages']} pages by the "
            "exporter's estimate.",
            "",
        ]
        out += _flow_table(g["rows"])
        out.append("")

    if "migration" in results:
        r = results["migration"]
        out += [
            "## 4. Forward migration of a legacy database (`benchmark_migration`)",
            "",
            f"Legacy database: {r['counts']} (built in {r['built_s']:.1f} s, then "
            f"{r.get('settled', 'not settled')}: a database at rest, see "
            f"`benchmarks/legacy.py`); `migrate` timed over {r['runs']} run(s).",
            "",
        ]
        out += _table(
            [
                "legacy projects",
                "legacy rows",
                "median s",
                "p95 s",
                "projects/s",
                "legacy rows/s",
                "target",
                "",
            ],
            [
                [
                    f"{r['projects']:,}",
                    f"{r['legacy_rows']:,}",
                    f"{r['median_ms'] / 1000:.2f}",
                    f"{r['p95_ms'] / 1000:.2f}",
                    f"{r['projects_per_s']:,.0f}",
                    f"{r['rows_per_s']:,.0f}",
                    f"≥ {r['target_projects_per_s']:,.0f} projects/s (1M in < 20 s)",
                    _verdict(r["ok"]),
                ]
            ],
        )
        if r["steps"]:
            out += [
                "",
                "Slowest migration steps: "
                + ", ".join(
                    f"{name} {seconds:.2f} s"
                    for name, seconds in sorted(r["steps"].items(), key=lambda s: -s[1])[:6]
                )
                + ".",
            ]
        out.append("")

    missed = missed_targets(results)
    out += ["## Targets missed", ""]
    out += [f"- {line}" for line in missed] or ["- none"]
    out.append("")
    return "\n".join(out)


def _flow_table(rows: list[dict]) -> list[str]:
    return _table(
        ["measure", "median ms", "p95 ms", "runs", "detail", "target", ""],
        [
            [
                r["measure"],
                _ms(r["median_ms"]),
                _ms(r["p95_ms"]),
                r["runs"],
                r["detail"] or "—",
                r["target"],
                _verdict(r["ok"]),
            ]
            for r in rows
        ],
    )


def missed_targets(results: dict) -> list[str]:
    missed = []
    for r in results.get("admin", []):
        if not r["ok"]:
            missed.append(
                f"2. {r['changelist']} — {r['variant']}: {_ms(r['median_ms'])} ms, "
                f"{r['queries']} queries ({', '.join(r['problems'])})"
            )
    for r in (results.get("vector") or {}).get("rows", []):
        if r["ok"] is False:
            recall = "—" if r["recall_mean"] is None else f"{r['recall_mean']:.3f}"
            missed.append(
                f"3. {r['call']} — {r['company']}: {_ms(r['median_ms'])} ms, recall@10 "
                f"{recall}, fewest results {r['min_results']} ({r['target']})"
            )
    for number, part in ((5, "matching"), (6, "generation")):
        for r in (results.get(part) or {}).get("rows", []):
            if r["ok"] is False:
                missed.append(f"{number}. {r['measure']}: {_ms(r['median_ms'])} ms ({r['target']})")
    r = results.get("migration")
    if r and not r["ok"]:
        missed.append(
            f"4. migration: {r['projects_per_s']:,.0f} projects/s "
            f"(target ≥ {r['target_projects_per_s']:,.0f})"
        )
    return missed
