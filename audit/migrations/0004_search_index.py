"""The audit trail searched by the names it keeps (the object's, the person's name and
email, written into ``details`` at the time) through an index: the company's whole log
was read for each search (1.6 s for a search that finds nothing in a 100,000-entry log).

Email addresses are indexed as their parts ("julien", "example"…), so that part of an
address finds them as the search's words do. An expression index, so the rows (and the hash chain, which covers ``details``) are
untouched."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION enpyco_audit_fts(details jsonb) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT enpyco_fts(
        coalesce(details->>'object', '') || ' ' ||
        coalesce(details#>>'{actor,name}', '') || ' ' ||
        translate(coalesce(details#>>'{actor,email}', ''), '@.', '  ') || ' ' ||
        translate(coalesce(details->>'email', ''), '@.', '  ')
    )
$$;
CREATE INDEX idx_audit_log_search ON audit_log USING gin (enpyco_audit_fts(details));
"""

REVERSE = """
DROP INDEX idx_audit_log_search;
DROP FUNCTION enpyco_audit_fts(jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_hash_chain"),
        ("tenants", "0003_french_search_functions"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
