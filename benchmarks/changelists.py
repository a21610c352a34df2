"""Part 2: the admin changelists as a company's administrator gets them.

Run where the ``default`` connection is the benchmark database. Pages are fetched with
Django's test client (the full stack: middleware, session, permissions, the
changelist, its filters and date hierarchy, template rendering). Each page is fetched
once with its SQL captured (query count, COUNT(*) and DISTINCT queries, the slowest
query), then ``repeat`` times for wall time. The same pages are fetched for a typical
company, to check that the number of queries does not grow with the rows.
"""

from __future__ import annotations

import math
import re
import time

from benchmarks.sizes import BIG_COMPANY, HALF_COMPANY, SMALL_COMPANY, Sizes, uid
from benchmarks.stats import QueryLog, summary

TARGET_MS = 100.0
#: The pages of a memoir's passages: the chunk list and the memoir's inline.
CHUNK_TARGET_MS = 20.0


def pages(company: int, later: int) -> list[tuple[str, str, str]]:
    """``(changelist, variant, query string)``; ``later`` is the later page's number."""
    user = uid("user", company, 2)
    return [
        ("content blocks", "page 1", ""),
        ("content blocks", f"page {later}", f"?p={later}"),
        ("content blocks", "search «pelle»", "?q=pelle"),
        ("content blocks", "filter type = equipment", "?type__exact=equipment"),
        ("content blocks", "search + filter", "?q=pelle&type__exact=equipment"),
        ("projects", "page 1", ""),
        ("projects", f"page {later}", f"?p={later}"),
        ("projects", "search «lyon»", "?q=lyon"),
        ("projects", "filter status = draft", "?status__exact=draft"),
        ("projects", "search + filter", "?q=lyon&status__exact=draft"),
        ("audit log", "page 1", ""),
        ("audit log", f"page {later}", f"?p={later}"),
        ("audit log", "search «project.» (action prefix)", "?q=project."),
        ("audit log", "search «transition» (no match)", "?q=transition"),
        ("audit log", "search a user id", f"?q={user}"),
        ("audit log", "filter action = project.update", "?action=project.update"),
        ("audit log", "search + filter", "?q=project.&action=project.transition"),
    ]


def chunk_pages(company: int, later: int) -> list[tuple[str, str, str]]:
    """The pages of a company's memoir passages (document chunks and their memoir)."""
    memoire = uid("memoire", company, 0)
    return [
        ("document chunks", "page 1", ""),
        ("document chunks", f"page {later}", f"?p={later}"),
        ("document chunks", "filter one memoir", f"?memoire={memoire}"),
        ("memoir page", "50 chunks inline", f"memoire:{memoire}"),
    ]


URLS = {
    "content blocks": "admin:library_contentblock_changelist",
    "projects": "admin:projects_project_changelist",
    "audit log": "admin:audit_auditlog_changelist",
    "document chunks": "admin:rag_documentchunk_changelist",
}


def _url(changelist: str, query: str) -> str:
    from django.urls import reverse

    if query.startswith("memoire:"):
        return reverse("admin:rag_memoire_change", args=[query.removeprefix("memoire:")])
    return reverse(URLS[changelist]) + query


def _analyse(queries: list[dict]) -> dict:
    counts, distinct, slowest = [], [], []
    for query in queries:
        sql, ms = query["sql"], query["ms"]
        upper = sql.upper()
        short = re.sub(r"\s+", " ", sql)[:300]
        if "COUNT(" in upper and "FROM" in upper:
            counts.append(
                {
                    "ms": ms,
                    "scoped": "COMPANY_ID" in upper,
                    "capped": " LIMIT " in upper,
                    "sql": short,
                }
            )
        if "SELECT DISTINCT" in upper:
            distinct.append({"ms": ms, "sql": short})
        slowest.append({"ms": ms, "sql": short})
    slowest.sort(key=lambda q: -q["ms"])
    return {"counts": counts, "distinct": distinct, "slowest": slowest[:3]}


def _fetch(client, url: str) -> int:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return len(response.content)


def measure_changelists(sizes: Sizes, repeat: int, log, *, chunks: bool = False) -> list[dict]:
    """The relational pages of the big company (against a typical one's query counts),
    and with ``chunks`` the passage pages of the company holding half the chunks
    (against the one holding 1 %)."""
    big_later = max(2, min(100, math.ceil(sizes.big_rows / 50)))
    rows = _measure(
        ((sizes.typical_company, 2), (BIG_COMPANY, big_later)), pages, TARGET_MS, repeat, log
    )
    if chunks:
        half_later = max(2, min(100, math.ceil(sizes.chunk_shares()[HALF_COMPANY] / 50)))
        rows += _measure(
            ((SMALL_COMPANY, 2), (HALF_COMPANY, half_later)),
            chunk_pages,
            CHUNK_TARGET_MS,
            repeat,
            log,
        )
    return rows


def _measure(companies, pages_of, target_ms: float, repeat: int, log) -> list[dict]:
    """Fetch ``pages_of(company, later)`` for the small then the big company of
    ``companies`` (``(company, later page)`` pairs); time the big one's."""
    from django.db import connection
    from django.test import Client, override_settings

    from tenants.models import User

    rows = []
    small_counts: dict[int, int] = {}
    (_small, _), (big, _) = companies
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        for company, later in companies:
            client = Client()
            client.force_login(User.objects.get(pk=uid("user", company, 1)))
            for key, (changelist, variant, query) in enumerate(pages_of(company, later)):
                url = _url(changelist, query)
                _fetch(client, url)  # warm-up: templates, caches
                log_queries = QueryLog(connection)
                with connection.execute_wrapper(log_queries):
                    _fetch(client, url)
                queries = log_queries.queries
                if company != big:
                    small_counts[key] = len(queries)
                    continue
                seconds = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    _fetch(client, url)
                    seconds.append(time.perf_counter() - started)
                stats = summary(seconds)
                facts = _analyse(queries)
                full_counts = [c for c in facts["counts"] if not c["capped"]]
                unscoped = [c for c in facts["counts"] if not c["scoped"]]
                constant = small_counts.get(key) == len(queries)
                problems = []
                if stats["median_ms"] >= target_ms:
                    problems.append("time")
                if not constant:
                    problems.append("queries grow")
                if unscoped:
                    problems.append("unscoped COUNT")
                if full_counts:
                    problems.append("full COUNT")
                rows.append(
                    {
                        "changelist": changelist,
                        "variant": variant,
                        "url": url,
                        **stats,
                        "queries": len(queries),
                        "queries_small": small_counts.get(key),
                        "sql_ms": sum(q["ms"] for q in queries),
                        **facts,
                        "target_ms": target_ms,
                        "problems": problems,
                        "ok": not problems,
                    }
                )
                log(
                    f"  {changelist:<15} {variant:<32} {stats['median_ms']:8.1f} ms "
                    f"{len(queries):3d} queries  {', '.join(problems) or 'ok'}"
                )
    return rows
