"""Timing and plan helpers shared by the measurements."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(seconds: list[float]) -> dict[str, float]:
    """Median and p95 in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {"median_ms": statistics.median(ms), "p95_ms": percentile(ms, 95), "runs": len(ms)}


def timed(func: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[dict, Any]:
    """Run ``func`` ``warmup`` times untimed, then ``repeat`` times timed with
    ``time.perf_counter``; the summary and the last result."""
    result = None
    for _ in range(warmup):
        result = func()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        seconds.append(time.perf_counter() - started)
    return summary(seconds), result


def plan_facts(explain_json: str | list) -> dict[str, Any]:
    """From ``EXPLAIN (FORMAT JSON[, ANALYZE])``: the indexes used, the tables read by a
    sequential scan, the top node and, with ANALYZE, the server's execution time."""
    data = json.loads(explain_json) if isinstance(explain_json, str) else explain_json
    root = data[0] if isinstance(data, list) else data
    indexes: list[str] = []
    seq_scans: list[str] = []
    nodes: list[str] = []

    def walk(node: dict) -> None:
        nodes.append(node.get("Node Type", "?"))
        if node.get("Index Name") and node["Index Name"] not in indexes:
            indexes.append(node["Index Name"])
        if node.get("Node Type") == "Seq Scan":
            seq_scans.append(node.get("Relation Name", "?"))
        for child in node.get("Plans", []):
            walk(child)

    walk(root["Plan"])
    return {
        "indexes": indexes,
        "seq_scans": seq_scans,
        "nodes": nodes,
        "execution_ms": root.get("Execution Time"),
        "planning_ms": root.get("Planning Time"),
    }


def plan_label(facts: dict) -> str:
    parts = [f"`{name}`" for name in facts["indexes"]]
    parts += [f"Seq Scan on `{table}`" for table in facts["seq_scans"]]
    return ", ".join(parts) or "—"


class QueryLog:
    """``connection.execute_wrapper`` recording each query's SQL (parameters
    interpolated) and its own wall time, at perf_counter precision."""

    def __init__(self, connection):
        self.connection = connection
        self.queries: list[dict] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            try:
                text = self.connection.ops.last_executed_query(context["cursor"], sql, params)
            except Exception:
                text = sql
            self.queries.append({"sql": text, "ms": elapsed * 1000})
