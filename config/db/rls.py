"""SQL of the row-level security policies (see tenants/rls.py for what they enforce).

Migrations call these functions for each table they protect, so that a table added
later gets the same policy as the others; ``tests/test_row_level_security.py`` fails
while a table holding a ``company_id`` has none.
"""

from __future__ import annotations

#: Operators whose index use row-level security would otherwise forbid. A query's
#: condition may be checked by an index before the policy only if its function cannot
#: leak the rows it sees (LEAKPROOF): PostgreSQL's full-text match, array containment
#: and overlap, LIKE's prefix range and enum equality are not marked so, which leaves a company's
#: search to read all its rows (measured: 0.5 ms through the GIN index, 4.8 ms without,
#: on 2,000 rows; seconds at 100,000). Only a superuser may mark them: the embedded
#: server does; on another server, run ``ALTER FUNCTION … LEAKPROOF`` for each as a
#: superuser (``check_migration`` tells whether it was done). None of them raises an
#: error that depends on the rows' values.
LEAKPROOF_OPERATOR_FUNCTIONS = (
    "ts_match_vq(tsvector, tsquery)",
    "arraycontains(anyarray, anyarray)",
    "arrayoverlap(anyarray, anyarray)",
    "textlike(text, text)",
    "text_pattern_ge(text, text)",
    "text_pattern_lt(text, text)",
    "text_pattern_gt(text, text)",
    "text_pattern_le(text, text)",
    # Enum comparisons (a project's status, a block's type): OIDs compared, no error.
    "enum_eq(anyenum, anyenum)",
    "enum_ne(anyenum, anyenum)",
    "enum_lt(anyenum, anyenum)",
    "enum_le(anyenum, anyenum)",
    "enum_gt(anyenum, anyenum)",
    "enum_ge(anyenum, anyenum)",
)

#: The project's own functions that index expressions are made of (config/db/search.py,
#: library.querysets.CompanyTags): created by the migrations, marked after them
#: (``tenants.db_roles.mark_leakproof``). Pure text and array functions.
LEAKPROOF_PROJECT_FUNCTIONS = (
    "enpyco_company_tags(uuid, text[])",
    "enpyco_project_fts(text, text, text, text)",
    "enpyco_fts(text)",
    "enpyco_audit_fts(jsonb)",
)

#: The functions the policies call: the company, user and mode the connection acts for.
#: The modes are a setting cast to boolean, not compared with 'on': the planner counts
#: a policy's "setting = 'on'" as true for 0.5 % of the rows (its default for an equality
#: it cannot look up) and a boolean expression for half of them, and with the former it
#: thought a company's search matched a few hundred rows, sorted every row instead of
#: walking the vector index (5 % company: 65 ms instead of 11) and read a big company's
#: audit page 100 by a bitmap and a sort (1.5 s instead of 9 ms).
FUNCTIONS = """
CREATE FUNCTION enpyco_company() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('enpyco.company_id', true), '')::uuid
$$;
CREATE FUNCTION enpyco_user() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('enpyco.user_id', true), '')::uuid
$$;
CREATE FUNCTION enpyco_platform() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting('enpyco.platform', true), ''), 'off')::boolean
$$;
CREATE FUNCTION enpyco_authenticating() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting('enpyco.auth', true), ''), 'off')::boolean
$$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION enpyco_authenticating();
DROP FUNCTION enpyco_platform();
DROP FUNCTION enpyco_user();
DROP FUNCTION enpyco_company();
"""


def company_policy(table: str, column: str = "company_id") -> tuple[str, str]:
    """Forward and reverse SQL: the table's rows are those of the connection's company
    (or every company's in platform mode), for reading and for writing alike."""
    rule = f"(enpyco_platform() OR {column} = enpyco_company())"
    forward = f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY company_rows ON {table} USING {rule} WITH CHECK {rule};
"""
    reverse = f"""
DROP POLICY company_rows ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""
    return forward, reverse
