"""Tamper evidence: each audit row is chained to the previous row of its company.

PostgreSQL computes the chain itself, in a BEFORE INSERT trigger, whoever inserts:
``chain_seq`` is the row's place in its company's chain (platform rows, without a
company, have a chain of their own) and ``row_hash`` the SHA-256 of the previous row's
hash and this row's values. Changing, removing or backdating a row afterwards breaks the
chain at that row, which ``manage.py verify_audit`` reports. Inserts of one company take
a transaction-level advisory lock, so that two concurrent transactions never chain onto
the same row.

Rows already in the table are chained once, company by company, in (timestamp, id)
order.
"""

from django.db import migrations, models

#: The text a row's hash is computed from: a JSON array (unambiguous whatever the
#: values hold), the timestamp in UTC with microseconds, whatever the session's zone.
CHAIN = r"""
CREATE FUNCTION audit_log_row_hash(previous text, entry audit_log) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        coalesce(previous, ''),
        entry.chain_seq,
        entry.id,
        entry.action,
        entry.user_id,
        entry.company_id,
        entry.resource_type,
        entry.resource_id,
        entry.details,
        host(entry.ip_address),
        entry.user_agent,
        to_char(entry."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
    )::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous record;
    mode text := coalesce(current_setting('enpyco.platform', true), '');
BEGIN
    PERFORM pg_advisory_xact_lock(
        hashtextextended('audit_log:' || coalesce(NEW.company_id::text, 'platform'), 0)
    );
    -- The last link is read whoever inserts (row-level security, tenants.0004, would
    -- hide another company's rows from a login's insert); the mode is put back after.
    PERFORM set_config('enpyco.platform', 'on', true);
    IF NEW.company_id IS NULL THEN
        SELECT chain_seq, row_hash INTO previous FROM audit_log
         WHERE company_id IS NULL AND chain_seq IS NOT NULL
         ORDER BY chain_seq DESC LIMIT 1;
    ELSE
        SELECT chain_seq, row_hash INTO previous FROM audit_log
         WHERE company_id = NEW.company_id AND chain_seq IS NOT NULL
         ORDER BY chain_seq DESC LIMIT 1;
    END IF;
    PERFORM set_config('enpyco.platform', mode, true);
    NEW."timestamp" := coalesce(NEW."timestamp", now());
    NEW.chain_seq := coalesce(previous.chain_seq, 0) + 1;
    NEW.row_hash := audit_log_row_hash(previous.row_hash, NEW);
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_chain
    BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
"""

#: Chaining the rows already there, in order, with the append-only trigger off for the
#: time of this migration's transaction.
BACKFILL = r"""
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DO $$
DECLARE
    entry audit_log;
    last_company uuid;
    started boolean := false;
    seq bigint := 0;
    previous text;
BEGIN
    FOR entry IN
        SELECT * FROM audit_log ORDER BY company_id NULLS FIRST, "timestamp", id
    LOOP
        IF NOT started OR entry.company_id IS DISTINCT FROM last_company THEN
            seq := 0;
            previous := NULL;
            started := true;
            last_company := entry.company_id;
        END IF;
        seq := seq + 1;
        entry.chain_seq := seq;
        previous := audit_log_row_hash(previous, entry);
        UPDATE audit_log SET chain_seq = seq, row_hash = previous WHERE id = entry.id;
    END LOOP;
END;
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
"""

DROP = """
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
DROP FUNCTION audit_log_row_hash(text, audit_log);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_performance_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="chain_seq",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True, verbose_name="sequence"
            ),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="row_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, verbose_name="hash"
            ),
        ),
        migrations.AddIndex(
            model_name="auditlog",
            index=models.Index(
                models.F("company_id"),
                models.OrderBy(models.F("chain_seq"), descending=True),
                name="idx_audit_log_chain",
            ),
        ),
        migrations.RunSQL(CHAIN + BACKFILL, DROP),
    ]
