"""Part 4: the forward migration of a legacy database, through the existing
``manage.py benchmark_migration`` (which builds the legacy database with
``benchmarks.legacy`` in a scratch database, times ``migrate`` and drops it).

Each run is a ``manage.py benchmark_migration`` subprocess: the command keeps its
``benchmark_migration`` connection wrapper cached in ``django.db.connections`` after
dropping that database, so a second call in the same process would reach the old one.
"""

from __future__ import annotations

import re
import subprocess
import sys

from django.conf import settings

from benchmarks.stats import summary

#: 1,000,000 legacy projects in under 20 seconds.
TARGET_PROJECTS_PER_SECOND = 1_000_000 / 20

_BUILT = re.compile(
    r"Legacy database: (?P<counts>.*) \(built in (?P<built>[\d.]+) s; "
    r"(?P<settled>.*) in (?P<settling>[\d.]+) s\)"
)
_MIGRATED = re.compile(
    r"Forward migration: (?P<seconds>[\d.]+) s — (?P<projects>[\d,]+) projects/s, "
    r"(?P<rows>[\d,]+) legacy rows/s"
)
_STEP = re.compile(r"^\s+(?P<name>\S+)\s+(?P<seconds>[\d.]+) s$")


def run_once(projects: int) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "benchmark_migration",
            "--projects",
            str(projects),
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    text = done.stdout
    if done.returncode != 0:
        raise RuntimeError(f"benchmark_migration failed:\n{done.stdout}\n{done.stderr}")
    built, migrated = _BUILT.search(text), _MIGRATED.search(text)
    if not (built and migrated):
        raise RuntimeError(f"Unexpected benchmark_migration output:\n{text}")
    rows = 0
    for part in built.group("counts").split(", "):
        number, _table = part.split(" ", 1)
        rows += int(number.replace(",", ""))
    steps = {}
    for line in text.splitlines():
        match = _STEP.match(line)
        if match:
            steps[match.group("name")] = float(match.group("seconds"))
    return {
        "counts": built.group("counts"),
        "legacy_rows": rows,
        "built_s": float(built.group("built")),
        "settled": built.group("settled"),
        "migrate_s": float(migrated.group("seconds")),
        "steps": steps,
    }


def measure_migration(projects: int, runs: int, log) -> dict:
    results = []
    for i in range(runs):
        result = run_once(projects)
        results.append(result)
        log(
            f"  run {i + 1}/{runs}: built {result['built_s']:.1f} s, "
            f"migrated {result['migrate_s']:.2f} s"
        )
    stats = summary([r["migrate_s"] for r in results])
    median_s = stats["median_ms"] / 1000
    rate = projects / median_s
    return {
        "projects": projects,
        "counts": results[0]["counts"],
        "legacy_rows": results[0]["legacy_rows"],
        "built_s": results[0]["built_s"],
        "settled": results[0]["settled"],
        **stats,
        "projects_per_s": rate,
        "rows_per_s": results[0]["legacy_rows"] / median_s,
        "steps": sorted(results, key=lambda r: r["migrate_s"])[len(results) // 2]["steps"],
        "target_projects_per_s": TARGET_PROJECTS_PER_SECOND,
        "ok": rate >= TARGET_PROJECTS_PER_SECOND,
    }
