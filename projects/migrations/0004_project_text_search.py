"""French full-text index over a project's name, client, location and lot: the
admin's search box, without the table scan of ILIKE '%…%'."""

from django.db import migrations

SQL = """
CREATE FUNCTION enpyco_project_fts(name text, client text, location text, lot text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- One vector of the four columns: building it once per row halves the index
    -- build on a million legacy projects (weights would need one per column).
    SELECT enpyco_fts(concat_ws(' ', name, client, location, lot))
$$;
CREATE INDEX idx_projects_fts ON projects
    USING gin (enpyco_project_fts(name, client, location, lot));
"""

REVERSE = """
DROP INDEX idx_projects_fts;
DROP FUNCTION enpyco_project_fts(text, text, text, text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_company_required"),
        ("tenants", "0003_french_search_functions"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
