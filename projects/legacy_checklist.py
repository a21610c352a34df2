"""The post-migration checklist: does the database hold the schema contract?

``manage.py check_migration`` prints these results for operators after migrating
production; the tests call the same functions. Each check takes a database connection
(``django.db.connections[alias]``) and returns one :class:`CheckResult` (the enum check
returns several). Expected values come from the schema contract
(``docs/schema.md``) or, where the code is the source of truth (enum values,
``on_delete`` rules, tenant tables), from the models themselves, so that the checklist
and the code cannot drift apart.

Every check only reads. A check that cannot run (missing table, missing function, a
database that was never migrated) fails with the database's error instead of raising.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import DatabaseError, models, transaction
from django.db.migrations.executor import MigrationExecutor

from config.db.enums import EnumField, database_enum_values

SCHEMA = "public"

#: The 15 tables of the contract.
CONTRACT_TABLES = (
    "companies",
    "users",
    "content_blocks",
    "files",
    "block_files",
    "past_projects",
    "section_templates",
    "projects",
    "sections",
    "rc_analysis",
    "content_matches",
    "generation_requests",
    "memoires",
    "document_chunks",
    "audit_log",
)

#: The 5 enum types of the contract (their values come from the models' EnumFields).
CONTRACT_ENUM_TYPES = (
    "user_role_enum",
    "project_status_enum",
    "content_block_type_enum",
    "generation_status_enum",
    "file_relationship_enum",
)

MIN_INDEX_COUNT = 25

#: Every index the contract's "Indexes" section names, with its table.
CONTRACT_INDEXES = {
    # Tenant lookups
    "idx_users_company_id": "users",
    "idx_files_company_id": "files",
    "idx_past_projects_company_id": "past_projects",
    "idx_memoires_company_id": "memoires",
    "idx_projects_company_id": "projects",
    # Composite multi-tenant
    "idx_content_blocks_company_type": "content_blocks",
    "idx_section_templates_company_type": "section_templates",
    "idx_projects_company_status": "projects",
    # GIN on arrays
    "idx_content_blocks_tags": "content_blocks",
    "idx_past_projects_techniques": "past_projects",
    "idx_memoires_techniques": "memoires",
    "idx_content_matches_blocks": "content_matches",
    "idx_sections_source_blocks": "sections",
    # GIN on jsonb
    "idx_content_blocks_metadata": "content_blocks",
    # Other lookups
    "idx_companies_name": "companies",
    "idx_users_email": "users",
    "idx_files_uploaded_by": "files",
    "idx_rc_analysis_project_id": "rc_analysis",
    "idx_content_matches_project_id": "content_matches",
    "idx_generation_requests_project_id": "generation_requests",
    "idx_generation_requests_status": "generation_requests",
    "idx_projects_created_by": "projects",
    "idx_sections_project_id": "sections",
    "idx_sections_reviewer_id": "sections",
    "idx_memoires_uploaded_by": "memoires",
    "idx_audit_log_user_id": "audit_log",
    "idx_audit_log_resource": "audit_log",
    "idx_audit_log_timestamp": "audit_log",
    # Legacy, kept
    "idx_chunks_memoire": "document_chunks",
    "idx_sections_project": "sections",
    "document_chunks_embedding_idx": "document_chunks",
}

#: Contract indexes deliberately absent because another index serves their lookup.
#: The contract forbids two indexes that duplicate each other: a lookup of sections by
#: project_id is served by the legacy composite idx_sections_project (project_id,
#: order_num), whose leading column is project_id, so idx_sections_project_id would
#: only duplicate it.
INDEXES_SERVED_BY = {"idx_sections_project_id": "idx_sections_project"}

#: GIN indexes the contract asks for without naming them: (table, column).
CONTRACT_UNNAMED_GIN = (("companies", "settings"), ("section_templates", "placeholders"))

#: Apps whose models make the schema (the foreign keys checked are theirs).
PROJECT_APPS = ("tenants", "library", "projects", "rag", "audit")

#: pg_constraint.confdeltype of each on_delete. Django emulates every other handler
#: (SET(...)) in Python and leaves the constraint NO ACTION.
CONFDELTYPE = {
    models.CASCADE: "c",
    models.SET_NULL: "n",
    models.RESTRICT: "r",
    models.PROTECT: "r",
    models.SET_DEFAULT: "d",
    models.DO_NOTHING: "a",
}
RULE_NAMES = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}

#: Tables whose company_id the contract requires (besides every TenantModel's table).
CONTRACT_TENANT_TABLES = ("projects", "memoires")

#: Number of chunks asked from match_documents by the vector search check.
MATCH_COUNT = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""

    @property
    def mark(self) -> str:
        return "✅" if self.ok else "❌"

    def line(self) -> str:
        return (
            f"{self.mark} {self.name}: {self.detail}" if self.detail else f"{self.mark} {self.name}"
        )


# --- helpers -------------------------------------------------------------------------


def _rows(connection, sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _value(connection, sql: str, params=None):
    rows = _rows(connection, sql, params)
    return rows[0][0] if rows else None


def _error(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith("x") else f"{n} {word}s"


def _list(names: Iterable[str], limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return f"{shown} (+{len(names) - limit} more)" if len(names) > limit else shown


def _missing_detail(items: list[tuple[str, str]], existing: set[str], what: str, sep: str) -> str:
    """Describe missing objects given as (description, table): those of tables that
    exist are listed, those of missing tables only counted (the Tables line names them)."""
    listed = [text for text, table in items if table in existing]
    orphans = len(items) - len(listed)
    parts = [sep.join(listed)] if listed else []
    if orphans:
        parts.append(f"{_plural(orphans, what)} on missing tables")
    return "; ".join(parts)


def _existing_tables(connection) -> set[str]:
    return {
        r[0]
        for r in _rows(
            connection, "SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA]
        )
    }


def _project_models() -> list[type[models.Model]]:
    return [
        model
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


# --- checks --------------------------------------------------------------------------


def check_connection(connection) -> CheckResult:
    """The database answers; name it, with the PostgreSQL and pgvector versions."""
    name = connection.settings_dict.get("NAME")
    try:
        connection.ensure_connection()
        server = _value(connection, "SHOW server_version")
        vector = _value(connection, "SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    except DatabaseError as exc:
        return CheckResult("Database", False, f"cannot connect to '{name}': {_error(exc)}")
    if vector is None:
        return CheckResult(
            "Database", False, f"'{name}' (PostgreSQL {server}): the pgvector extension is missing"
        )
    return CheckResult("Database", True, f"'{name}' (PostgreSQL {server}, pgvector {vector})")


def check_migrations_applied(connection) -> CheckResult:
    """No unapplied migration: the migration plan to every app's last migration is empty."""
    executor = MigrationExecutor(connection)
    executor.loader.check_consistent_history(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
        return CheckResult(
            "Migrations",
            False,
            f"{_plural(len(plan), 'unapplied migration')}: {_list(names, 5)} "
            "(run: python manage.py migrate)",
        )
    applied = len(executor.loader.applied_migrations)
    return CheckResult("Migrations", True, f"all applied ({applied})")


def check_tables(connection) -> CheckResult:
    """The 15 tables of the contract exist."""
    missing = [t for t in CONTRACT_TABLES if t not in _existing_tables(connection)]
    total = len(CONTRACT_TABLES)
    if missing:
        return CheckResult(
            "Tables",
            False,
            f"{total - len(missing)}/{total} present, missing: {', '.join(missing)}",
        )
    return CheckResult("Tables", True, f"{total}/{total} present")


def model_enum_types() -> tuple[dict[str, list[str]], list[str]]:
    """Values of each enum type declared by an EnumField of the models, and conflicts.

    Two fields naming the same type with different choices are a conflict.
    """
    types: dict[str, list[str]] = {}
    conflicts: list[str] = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_fields:
            if not isinstance(field, EnumField):
                continue
            values = [str(value) for value, _label in field.flatchoices]
            known = types.setdefault(field.enum_type, values)
            if known != values:
                conflicts.append(f"{model._meta.label}.{field.name} ({field.enum_type})")
    return types, conflicts


def check_enum_types(connection) -> list[CheckResult]:
    """The contract's 5 enum types exist with the models' values, in order."""
    expected, conflicts = model_enum_types()
    results = []
    declared = set(expected)
    contract = set(CONTRACT_ENUM_TYPES)
    problems = []
    if declared - contract:
        problems.append(f"not in the contract: {', '.join(sorted(declared - contract))}")
    if contract - declared:
        problems.append(f"declared by no EnumField: {', '.join(sorted(contract - declared))}")
    if conflicts:
        problems.append(f"conflicting choices: {', '.join(conflicts)}")
    results.append(
        CheckResult("Enum types in the models", False, "; ".join(problems))
        if problems
        else CheckResult("Enum types in the models", True, f"the contract's {len(contract)} types")
    )
    for enum_type in [*CONTRACT_ENUM_TYPES, *sorted(declared - contract)]:
        name = f"Enum {enum_type}"
        values = expected.get(enum_type)
        actual = database_enum_values(connection, enum_type)
        if actual is None:
            results.append(CheckResult(name, False, "type missing in the database"))
        elif values is None:
            results.append(
                CheckResult(name, False, f"no model declares it (database: {', '.join(actual)})")
            )
        elif actual != values:
            missing = [v for v in values if v not in actual]
            extra = [v for v in actual if v not in values]
            diff = []
            if missing:
                diff.append(f"missing {', '.join(missing)}")
            if extra:
                diff.append(f"unexpected {', '.join(extra)}")
            if not diff:
                diff.append("values in the wrong order")
            results.append(
                CheckResult(
                    name,
                    False,
                    f"{'; '.join(diff)} (database: {', '.join(actual)}; models: {', '.join(values)})",
                )
            )
        else:
            results.append(CheckResult(name, True, ", ".join(values)))
    return results


def check_index_count(connection) -> CheckResult:
    """``pg_indexes`` counts at least 25 indexes in the public schema."""
    count = _value(connection, "SELECT count(*) FROM pg_indexes WHERE schemaname = %s", [SCHEMA])
    return CheckResult(
        "Index count", count >= MIN_INDEX_COUNT, f"{count} in {SCHEMA} (at least {MIN_INDEX_COUNT})"
    )


def check_contract_indexes(connection) -> CheckResult:
    """Every index the contract names exists on its table (bar documented exceptions),
    and the two GIN indexes it asks for without a name."""
    present = {
        (name, table)
        for name, table in _rows(
            connection,
            "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = %s",
            [SCHEMA],
        )
    }
    gin = {
        (table, column)
        for table, column in _rows(
            connection,
            """
            SELECT t.relname, a.attname
              FROM pg_index i
              JOIN pg_class ic ON ic.oid = i.indexrelid
              JOIN pg_am am ON am.oid = ic.relam
              JOIN pg_class t ON t.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
             WHERE am.amname = 'gin' AND n.nspname = %s
            """,
            [SCHEMA],
        )
    }
    existing = _existing_tables(connection)
    expected = {n: t for n, t in CONTRACT_INDEXES.items() if n not in INDEXES_SERVED_BY}
    wanted = [
        (f"{name} (on {table})", table)
        for name, table in expected.items()
        if (name, table) not in present
    ]
    wanted += [
        (f"GIN index on {table}({column})", table)
        for table, column in CONTRACT_UNNAMED_GIN
        if (table, column) not in gin
    ]
    served = ", ".join(f"{n} served by {by}" for n, by in INDEXES_SERVED_BY.items())
    if wanted:
        detail = _missing_detail(wanted, existing, "index", ", ")
        return CheckResult("Contract indexes", False, f"missing: {detail}")
    return CheckResult(
        "Contract indexes",
        True,
        f"{len(expected)} named indexes present, GIN on "
        f"{', '.join(f'{t}.{c}' for t, c in CONTRACT_UNNAMED_GIN)} ({served})",
    )


def expected_foreign_keys() -> list[tuple[str, str, str, str, str]]:
    """(table, column, referenced table, confdeltype, field label) of every FK of the
    project's models, auto-created many-to-many tables included."""
    fks = []
    for model in _project_models():
        for field in model._meta.local_fields:
            if not (field.is_relation and field.concrete and field.db_constraint):
                continue
            rule = CONFDELTYPE.get(field.remote_field.on_delete, "a")
            fks.append(
                (
                    model._meta.db_table,
                    field.column,
                    field.related_model._meta.db_table,
                    rule,
                    f"{model._meta.label}.{field.name}",
                )
            )
    return sorted(fks)


def check_on_delete_rules(connection) -> CheckResult:
    """Every FK of the models is enforced by PostgreSQL with the rule of its on_delete."""
    actual: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for table, column, target, rule in _rows(
        connection,
        """
        SELECT t.relname, a.attname, r.relname, c.confdeltype
          FROM pg_constraint c
          JOIN pg_class t ON t.oid = c.conrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
          JOIN pg_class r ON r.oid = c.confrelid
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 AND n.nspname = %s
        """,
        [SCHEMA],
    ):
        actual.setdefault((table, column), []).append((target, rule))
    expected = expected_foreign_keys()
    existing = _existing_tables(connection)
    problems: list[str] = []
    missing: list[tuple[str, str]] = []
    tally: dict[str, int] = {}
    for table, column, target, rule, _label in expected:
        where = f"{table}.{column}"
        found = actual.get((table, column), [])
        to_target = [r for t, r in found if t == target]
        if not to_target:
            missing.append((f"{where} has no foreign key to {target}", table))
            continue
        wrong = sorted({r for r in to_target if r != rule})
        if wrong:
            rules = "/".join(RULE_NAMES.get(r, r) for r in wrong)
            problems.append(f"{where} is {rules}, expected {RULE_NAMES[rule]}")
            continue
        tally[RULE_NAMES[rule]] = tally.get(RULE_NAMES[rule], 0) + 1
    if missing:
        problems.append(_missing_detail(missing, existing, "foreign key", "; "))
    if problems:
        return CheckResult("ON DELETE rules", False, "; ".join(problems))
    counts = ", ".join(f"{name} {n}" for name, n in sorted(tally.items()))
    return CheckResult(
        "ON DELETE rules", True, f"{len(expected)} foreign keys as the models declare ({counts})"
    )


def tenant_tables() -> dict[str, str]:
    """{table: company column} of every table that belongs to one company."""
    from tenants.models import TenantModel

    tables = {
        model._meta.db_table: model._meta.get_field("company").column
        for model in _project_models()
        if issubclass(model, TenantModel)
    }
    for table in CONTRACT_TENANT_TABLES:
        tables.setdefault(table, "company_id")
    return dict(sorted(tables.items()))


def check_company_not_null(connection) -> CheckResult:
    """No row of a tenant table lacks its company, and the column is NOT NULL."""
    existing = _existing_tables(connection)
    parts, failed = [], False
    for table, column in tenant_tables().items():
        if table not in existing:
            parts.append(f"{table}: table missing")
            failed = True
            continue
        qn = connection.ops.quote_name
        nulls = _value(connection, f"SELECT count(*) FROM {qn(table)} WHERE {qn(column)} IS NULL")
        nullable = _value(
            connection,
            """
            SELECT NOT a.attnotnull FROM pg_attribute a
              JOIN pg_class t ON t.oid = a.attrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = %s AND t.relname = %s AND a.attname = %s AND NOT a.attisdropped
            """,
            [SCHEMA, table, column],
        )
        part = f"{table} {nulls}"
        if nullable is None:
            part += f" ({column} missing)"
        elif nullable:
            part += f" ({column} allows NULL)"
        failed = failed or bool(nulls) or nullable is not False
        parts.append(part)
    detail = "rows without a company: " + ", ".join(parts)
    return CheckResult("NULL company_id", not failed, detail)


def _adoption_constants() -> tuple[str, str]:
    migration = importlib.import_module("tenants.migrations.0002_adopt_legacy_data")
    return migration.MIGRATED_COMPANY, migration.SYSTEM_USER_EMAIL


def check_migrated_company(connection) -> CheckResult:
    """The company of the legacy rows exists when legacy rows were migrated.

    Legacy rows existed when the migration's system user exists (tenants.0002 creates
    it only then) or owns projects or memoires.
    """
    from projects.models import Project
    from rag.models import Memoire
    from tenants.models import Company, User

    company_name, system_email = _adoption_constants()
    qn = connection.ops.quote_name
    users, companies = qn(User._meta.db_table), qn(Company._meta.db_table)
    projects, memoires = qn(Project._meta.db_table), qn(Memoire._meta.db_table)
    created_by = qn(Project._meta.get_field("created_by").column)
    uploaded_by = qn(Memoire._meta.get_field("uploaded_by").column)
    project_company = qn(Project._meta.get_field("company").column)
    memoire_company = qn(Memoire._meta.get_field("company").column)
    email = qn(User._meta.get_field("email").column)

    system_user = _value(
        connection, f"SELECT id FROM {users} WHERE lower({email}) = lower(%s)", [system_email]
    )
    owned = (0, 0)
    if system_user is not None:
        owned = (
            _value(
                connection,
                f"SELECT count(*) FROM {projects} WHERE {created_by} = %s",
                [system_user],
            ),
            _value(
                connection,
                f"SELECT count(*) FROM {memoires} WHERE {uploaded_by} = %s",
                [system_user],
            ),
        )
    company = _value(
        connection,
        f"SELECT id FROM {companies} WHERE name = %s AND settings @> '{{\"migrated\": true}}'::jsonb "
        "ORDER BY created_at LIMIT 1",
        [company_name],
    )
    name = "Migrated-data company"
    if system_user is None and not any(owned):
        extra = f" (company '{company_name}' exists anyway)" if company else ""
        return CheckResult(
            name,
            True,
            f"no legacy rows were migrated (no system user {system_email}): not needed{extra}",
        )
    if company is None:
        return CheckResult(
            name,
            False,
            f"legacy rows were migrated (system user {system_email} owns "
            f"{_plural(owned[0], 'project')}, {_plural(owned[1], 'memoire')}) but no company "
            f"'{company_name}' with settings {{\"migrated\": true}} exists",
        )
    held = (
        _value(
            connection, f"SELECT count(*) FROM {projects} WHERE {project_company} = %s", [company]
        ),
        _value(
            connection, f"SELECT count(*) FROM {memoires} WHERE {memoire_company} = %s", [company]
        ),
    )
    return CheckResult(
        name,
        True,
        f"'{company_name}' exists with settings {{\"migrated\": true}} and holds "
        f"{_plural(held[0], 'project')}, {_plural(held[1], 'memoire')}",
    )


def check_document_chunks(connection, expected: int | None = None) -> CheckResult:
    """Count document_chunks; with ``expected`` (the count before migrating) compare."""
    total, embedded = _rows(connection, "SELECT count(*), count(embedding) FROM document_chunks")[0]
    detail = f"{_plural(total, 'row')} ({embedded} with an embedding)"
    if expected is None:
        return CheckResult("document_chunks", True, detail)
    if total != expected:
        return CheckResult(
            "document_chunks", False, f"{detail}, expected {expected} (count before migrating)"
        )
    return CheckResult("document_chunks", True, f"{detail}, as before migrating")


def check_vector_search(connection) -> CheckResult:
    """The legacy ``match_documents`` function answers a 1536-dimension query.

    The query is the embedding of an existing chunk (or a constant vector when no
    chunk has one), so at least that chunk matches. The search is made exact (every
    ivfflat list probed) so the row count can be compared with
    min(5, chunks the function's similarity filter accepts); the default, approximate
    search is run too, and a shortfall is reported as a note.
    """
    from rag.models import EMBEDDING_DIMENSIONS

    query = _value(
        connection,
        "SELECT embedding::text FROM document_chunks WHERE embedding IS NOT NULL ORDER BY id LIMIT 1",
    )
    if query is None:
        query = "[" + ",".join(["1"] * EMBEDDING_DIMENSIONS) + "]"
    search = "SELECT count(*) FROM match_documents(%s::vector, %s)"
    approximate = _value(connection, search, [query, MATCH_COUNT])
    # Local to the check's transaction, which _safely() rolls back.
    _rows(connection, "SELECT set_config('ivfflat.probes', '32768', true)")
    returned = _value(connection, search, [query, MATCH_COUNT])
    expected = _value(
        connection,
        "SELECT least(%s, count(*)) FROM document_chunks "
        "WHERE 1 - (embedding <=> %s::vector) >= 0.0",
        [MATCH_COUNT, query],
    )
    detail = f"match_documents(<{EMBEDDING_DIMENSIONS}-dim vector>, {MATCH_COUNT}) returned {_plural(returned, 'row')}"
    if returned != expected:
        return CheckResult("Vector search", False, f"{detail}, expected {expected}")
    notes = []
    if approximate < returned:
        notes.append(
            f"with the default ivfflat.probes only {approximate}: rebuild the index once "
            "data is loaded — python manage.py tune_vector_index"
        )
    if untuned := _untuned_vector_index(connection):
        notes.append(untuned)
    if notes:
        detail += f" ({'; '.join(notes)})"
    return CheckResult("Vector search", True, detail)


#: Embedded chunks from which company searches go through the vector index (the
#: default RAG_EXACT_SEARCH_MAX_CHUNKS) and an untrained ivfflat index starts to show.
UNTUNED_INDEX_MIN_CHUNKS = 20_000


def _untuned_vector_index(connection) -> str | None:
    """A note when the ivfflat index has far fewer lists than its rows call for.

    The legacy index (lists = 10) was built on an empty table: each list holds a tenth
    of the table, so a search of a big company reads most of it (240 ms at 100,000
    chunks, docs/performance.md). The contract keeps the index, and rebuilding it is an
    operator's decision taken once the data is loaded, so this is a note, not a failure.
    """
    row = _rows(
        connection,
        "SELECT am.amname, c.reloptions, (SELECT count(embedding) FROM document_chunks) "
        "FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
        "WHERE c.relname = 'document_chunks_embedding_idx'",
    )
    if not row or row[0][0] != "ivfflat":
        return None
    _method, reloptions, embedded = row[0]
    lists = int(dict(o.split("=", 1) for o in reloptions or []).get("lists", 100))
    from rag.search import suited_ivfflat_lists

    suited = suited_ivfflat_lists(embedded)
    if embedded < UNTUNED_INDEX_MIN_CHUNKS or lists * 2 > suited:
        return None
    return (
        f"the ivfflat index has {lists} lists for {embedded:,} embedded chunks, about "
        f"{suited:,} would suit them: python manage.py tune_vector_index rebuilds it"
    )


# --- running -------------------------------------------------------------------------


def check_leakproof_functions(connection) -> CheckResult:
    """The functions a company's indexed searches need marked LEAKPROOF (config/db/rls.py):
    without the mark, row-level security makes every such search read all the company's
    rows. Only a superuser may mark them, so the detail gives the statements to run."""
    from config.db.rls import LEAKPROOF_OPERATOR_FUNCTIONS, LEAKPROOF_PROJECT_FUNCTIONS

    missing = []
    for function in (*LEAKPROOF_OPERATOR_FUNCTIONS, *LEAKPROOF_PROJECT_FUNCTIONS):
        marked = _value(
            connection,
            "SELECT proleakproof FROM pg_proc WHERE oid = to_regprocedure(%s)",
            [function],
        )
        if marked is False:  # None: the function does not exist (yet)
            missing.append(function)
    if not missing:
        return CheckResult("Leakproof functions", True, "the indexed searches use their indexes")
    statements = " ".join(f"ALTER FUNCTION {f} LEAKPROOF;" for f in missing)
    return CheckResult(
        "Leakproof functions",
        False,
        f"{_plural(len(missing), 'function')} not marked; as a superuser run: {statements}",
    )


def _safely(
    name: str, check: Callable[[], CheckResult | list[CheckResult]], alias: str
) -> list[CheckResult]:
    """Run ``check`` in a transaction of its own, rolled back, so one failure (missing
    table…) does not abort the next checks; a database error fails the check."""
    try:
        with transaction.atomic(using=alias):
            result = check()
            transaction.set_rollback(True, using=alias)
    except DatabaseError as exc:
        return [CheckResult(name, False, f"cannot check: {_error(exc)}")]
    except Exception as exc:  # e.g. InconsistentMigrationHistory
        return [CheckResult(name, False, f"cannot check: {exc.__class__.__name__}: {_error(exc)}")]
    return result if isinstance(result, list) else [result]


def run_checks(connection, *, expected_chunks: int | None = None) -> list[CheckResult]:
    """Every check of the checklist, in order, against ``connection``."""
    connected = check_connection(connection)
    if connection.connection is None:  # could not connect: nothing else can run
        return [connected]
    checks: list[tuple[str, Callable[[], CheckResult | list[CheckResult]]]] = [
        ("Migrations", lambda: check_migrations_applied(connection)),
        ("Tables", lambda: check_tables(connection)),
        ("Enum types", lambda: check_enum_types(connection)),
        ("Index count", lambda: check_index_count(connection)),
        ("Contract indexes", lambda: check_contract_indexes(connection)),
        ("ON DELETE rules", lambda: check_on_delete_rules(connection)),
        ("NULL company_id", lambda: check_company_not_null(connection)),
        ("Migrated-data company", lambda: check_migrated_company(connection)),
        ("document_chunks", lambda: check_document_chunks(connection, expected_chunks)),
        ("Vector search", lambda: check_vector_search(connection)),
        ("Leakproof functions", lambda: check_leakproof_functions(connection)),
    ]
    results = [connected]
    for name, check in checks:
        results.extend(_safely(name, check, connection.alias))
    return results
