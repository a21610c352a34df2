"""Part 1: the application's own querysets, timed through the ORM, with their plans.

Run where the ``default`` connection is the benchmark database. Each query is timed
as the application runs it (queryset built, SQL sent, model instances made), for a
typical company (≈ 900 rows of each kind at full scale) and for the big one (100,000).
These figures explain the pages of part 2 (what users wait for, which has the
targets); they have no target of their own.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import timezone

from benchmarks.dataset import QUERY_ANY_TAGS, QUERY_TAG
from benchmarks.sizes import BIG_COMPANY, Sizes, uid
from benchmarks.stats import plan_facts, plan_label, timed

PAGE = 50

#: A query of this part takes about a millisecond, and on a shared 2-core machine the
#: median of 20 such runs moves by ±10 % from one run of the benchmark to the next:
#: each query runs this many times more than ``--repeat`` says, after a few warm-up
#: runs (the first fill Python's and the server's caches).
RUNS_PER_REPEAT = 10
WARMUP_RUNS = 5


def query_cases(company: int) -> list[tuple[str, Callable]]:
    """``(label, queryset factory)`` for one company."""
    from audit.models import AuditLog
    from library.models import ContentBlock
    from projects.models import Project

    company_id = uid("company", company)
    user_id = uid("user", company, 2)
    resource_id = uid("project", company, 3)
    now = timezone.now()
    since = now - datetime.timedelta(days=90)
    return [
        (
            "projects, newest first (first page)",
            lambda: Project.objects.for_company(company_id).order_by("-created_at")[:PAGE],
        ),
        (
            f"content blocks having tag «{QUERY_TAG}» (first page)",
            lambda: ContentBlock.objects.tagged_all([QUERY_TAG], company=company_id)[:PAGE],
        ),
        (
            f"content blocks having any of {', '.join(QUERY_ANY_TAGS)} (first page)",
            lambda: ContentBlock.objects.tagged_any(QUERY_ANY_TAGS, company=company_id)[:PAGE],
        ),
        (
            "projects in status draft (first page)",
            lambda: Project.objects.for_company(company_id).filter(status="draft")[:PAGE],
        ),
        (
            "a user's audit entries, last 90 days (first page)",
            lambda: AuditLog.objects.for_company(company_id).filter(
                user_id=user_id, timestamp__gte=since, timestamp__lt=now
            )[:PAGE],
        ),
        (
            "one project's audit history (all entries)",
            lambda: AuditLog.objects.for_company(company_id).filter(
                resource_type="project", resource_id=resource_id
            ),
        ),
    ]


def _raw(sql: str, params) -> list:
    """The same SQL through a plain cursor: the driver's share of the time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def measure_queries(sizes: Sizes, repeat: int, log) -> list[dict]:
    from projects.models import Project

    rows = []
    for company, kind in ((sizes.typical_company, "typical"), (BIG_COMPANY, "big")):
        held = Project.objects.for_company(uid("company", company)).count()
        for label, make in query_cases(company):
            runs = repeat * RUNS_PER_REPEAT
            stats, result = timed(lambda make=make: list(make()), runs, WARMUP_RUNS)
            facts = plan_facts(make().explain(format="json", analyze=True))
            sql, params = make().query.sql_with_params()
            raw, _ = timed(lambda sql=sql, params=params: _raw(sql, params), runs, WARMUP_RUNS)
            rows.append(
                {
                    "query": label,
                    "company": f"{kind} ({held:,} projects)",
                    **stats,
                    "sql_ms": (facts["execution_ms"] or 0) + (facts["planning_ms"] or 0),
                    "raw_ms": raw["median_ms"],
                    "rows": len(result),
                    "plan": plan_label(facts),
                    "indexes": facts["indexes"],
                    "seq_scans": facts["seq_scans"],
                    "sql": str(make().query),
                    "target_ms": None,
                    "ok": True,
                }
            )
            log(f"  {kind:<8} {label:<62} {stats['median_ms']:8.2f} ms  {rows[-1]['plan']}")
    return rows
