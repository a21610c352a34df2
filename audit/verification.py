"""Checking the audit trail's hash chain (audit.0003): every row's hash recomputed by
PostgreSQL, in order, company by company."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Break:
    company_id: object
    chain_seq: int | None
    entry_id: object
    problem: str


_CHECK = """
WITH chain AS (
    SELECT a.*,
           lag(a.row_hash) OVER w AS previous_hash,
           lag(a.chain_seq) OVER w AS previous_seq,
           lag(a."timestamp") OVER w AS previous_timestamp
      FROM audit_log a
     WHERE (%(company)s::uuid IS NULL AND NOT %(one)s) OR a.company_id = %(company)s::uuid
    WINDOW w AS (PARTITION BY a.company_id ORDER BY a.chain_seq)
)
SELECT company_id, chain_seq, id,
       CASE
         WHEN chain_seq IS NULL THEN 'not chained'
         WHEN chain_seq <> coalesce(previous_seq, 0) + 1 THEN 'a row is missing before it'
         WHEN row_hash IS DISTINCT FROM audit_log_row_hash(previous_hash, chain::audit_log)
           THEN 'its values or its link do not match its hash'
         WHEN "timestamp" < previous_timestamp THEN 'dated before the row before it'
       END AS problem
  FROM chain
 ORDER BY company_id NULLS FIRST, chain_seq
"""


def verify(company_id=None) -> tuple[int, list[Break]]:
    """``(rows checked, breaks)`` of every company's chain (or one company's), in chain
    order: the first break of a chain comes before the others."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = "
            "'audit_log'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
        columns = ", ".join(row[0] for row in cursor.fetchall())
        # The row as the table's own type, as the trigger hashed it.
        sql = _CHECK.replace("chain::audit_log", f"ROW({columns})::audit_log")
        cursor.execute(sql, {"company": company_id, "one": company_id is not None})
        rows = cursor.fetchall()
    breaks = [Break(c, seq, pk, problem) for c, seq, pk, problem in rows if problem]
    return len(rows), breaks
