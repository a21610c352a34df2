"""Part 3b: 384-dimension vectors zero-padded in vector(1536), or in a column of their own.

The contract's ``document_chunks.embedding`` is vector(1536); the default model gives
384 dimensions. Zero-padding keeps cosine similarity exact, but every vector then
weighs 6 KB instead of 1.5 KB. This part stores the same clustered vectors both ways,
in two scratch tables of the benchmark database (dropped afterwards), builds the HNSW
index the migrations build on each, and measures: build time, index and table size,
a nearest-neighbour query through the index (40 results, ``hnsw.ef_search`` 100), and
an exact search over one company's 10 % of the rows (what a company under the exact
threshold gets).
"""

from __future__ import annotations

import time

from benchmarks.dataset import clustered_vectors
from benchmarks.stats import summary

DIMENSIONS = 384


def measure_layout(rows: int, repeat: int, log) -> dict:
    import numpy as np
    from django.db import connection

    layouts = {"padded into vector(1536)": 1536, "vector(384) column": 384}
    _clusters, vector_bytes = clustered_vectors(rows, seed=384)
    vectors = np.vstack(
        [np.frombuffer(vector_bytes(k), dtype=">f4").astype(np.float32) for k in range(rows)]
    )
    results = []
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for label, width in layouts.items():
            table = f"benchmark.layout_{width}"
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TABLE {table} (id int PRIMARY KEY, company int NOT NULL, "
                f"embedding vector({width}) NOT NULL)"
            )
            started = time.perf_counter()
            with cursor.copy(f"COPY {table} (id, company, embedding) FROM STDIN") as copy:
                for i in range(rows):
                    padded = vectors[i].tolist() + [0.0] * (width - DIMENSIONS)
                    literal = "[" + ",".join(f"{x:.7g}" for x in padded) + "]"
                    copy.write_row((i, 1 if i % 10 == 0 else 2, literal))
            loaded = time.perf_counter() - started
            cursor.execute(f"CREATE INDEX ON {table} (company)")
            started = time.perf_counter()
            cursor.execute(
                f"CREATE INDEX layout_{width}_hnsw ON {table} "
                "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
            )
            built = time.perf_counter() - started
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(
                f"SELECT pg_relation_size('benchmark.layout_{width}_hnsw'), "
                f"pg_total_relation_size('{table}')"
            )
            index_bytes, table_bytes = cursor.fetchone()
            rng = np.random.default_rng(7)
            picks = rng.integers(0, rows, 10 + max(repeat, 20))
            indexed, exact = [], []
            for n, pick in enumerate(picks):
                query = vectors[pick] + rng.standard_normal(DIMENSIONS).astype(np.float32) * 0.02
                padded = query.tolist() + [0.0] * (width - DIMENSIONS)
                literal = "[" + ",".join(f"{x:.7g}" for x in padded) + "]"
                cursor.execute("BEGIN")
                cursor.execute("SET LOCAL hnsw.ef_search = 100")
                started = time.perf_counter()
                cursor.execute(
                    f"SELECT id FROM {table} ORDER BY embedding <=> %s::vector LIMIT 40",
                    [literal],
                )
                cursor.fetchall()
                elapsed = time.perf_counter() - started
                cursor.execute("SET LOCAL enable_indexscan = off")
                started_exact = time.perf_counter()
                cursor.execute(
                    f"WITH c AS MATERIALIZED (SELECT id, embedding FROM {table} WHERE company = 1) "
                    "SELECT id FROM c ORDER BY embedding <=> %s::vector LIMIT 40",
                    [literal],
                )
                cursor.fetchall()
                elapsed_exact = time.perf_counter() - started_exact
                cursor.execute("COMMIT")
                if n >= 10:  # warm-up
                    indexed.append(elapsed)
                    exact.append(elapsed_exact)
            cursor.execute(f"DROP TABLE {table}")
            results.append(
                {
                    "layout": label,
                    "rows": rows,
                    "load_s": loaded,
                    "build_s": built,
                    "index_mb": index_bytes / 2**20,
                    "table_mb": table_bytes / 2**20,
                    "hnsw": summary(indexed),
                    "exact": summary(exact),
                }
            )
            log(
                f"  {label}: HNSW {built:.1f} s, {index_bytes / 2**20:.0f} MB, query "
                f"{results[-1]['hnsw']['median_ms']:.2f} ms, exact 10 % "
                f"{results[-1]['exact']['median_ms']:.2f} ms"
            )
    return {"rows": results}
