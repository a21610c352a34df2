"""Row-level security, enabled and forced, on every table holding company data.

Forced: the owner of the tables is bound by the policies too (migrations and
operators' commands act in platform mode, an explicit policy, not a bypass). The
policies and the settings they read are described in tenants/rls.py. Tables reaching
their company through a parent get theirs with their own ``company_id`` column.
"""

from django.db import migrations

from config.db.rls import DROP_FUNCTIONS, FUNCTIONS, company_policy

#: Tables whose rows carry the company that owns them.
COMPANY_TABLES = (
    "content_blocks",
    "files",
    "past_projects",
    "section_templates",
    "projects",
    "memoires",
    "jobs",
)

SPECIAL = """
-- A company is its own row.
ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE companies FORCE ROW LEVEL SECURITY;
CREATE POLICY company_rows ON companies
    USING (enpyco_platform() OR id = enpyco_company())
    WITH CHECK (enpyco_platform() OR id = enpyco_company());

-- Users: a company's members, one's own row, and every row while a login is being
-- checked (nobody is logged in yet: the password and its throttle are looked up).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY company_rows ON users
    USING (enpyco_platform() OR company_id = enpyco_company() OR id = enpyco_user()
           OR enpyco_authenticating())
    WITH CHECK (enpyco_platform() OR company_id = enpyco_company() OR enpyco_authenticating());

-- The audit log: read by its company (and, during a login, its login rows); written by
-- whoever acts, for their company or for nobody's; never changed (no UPDATE or DELETE
-- policy: with security forced, not even by its owner without lifting it first).
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY company_rows ON audit_log FOR SELECT
    USING (enpyco_platform() OR company_id = enpyco_company()
           OR (enpyco_authenticating() AND action LIKE 'user.%%'));
CREATE POLICY company_writes ON audit_log FOR INSERT
    WITH CHECK (enpyco_platform() OR company_id = enpyco_company() OR company_id IS NULL
                OR enpyco_authenticating());
"""

UNDO_SPECIAL = """
DROP POLICY company_writes ON audit_log;
DROP POLICY company_rows ON audit_log;
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY;
DROP POLICY company_rows ON users;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
DROP POLICY company_rows ON companies;
ALTER TABLE companies NO FORCE ROW LEVEL SECURITY;
ALTER TABLE companies DISABLE ROW LEVEL SECURITY;
"""


def _policies():
    forward = [FUNCTIONS, SPECIAL]
    reverse = [UNDO_SPECIAL]
    for table in COMPANY_TABLES:
        sql, undo = company_policy(table)
        forward.append(sql)
        reverse.insert(0, undo)
    return "\n".join(forward), "\n".join([*reverse, DROP_FUNCTIONS])


FORWARD, REVERSE = _policies()


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_french_search_functions"),
        ("library", "0005_year_range"),
        ("projects", "0005_company_status_newest_first"),
        ("rag", "0006_year_range"),
        ("audit", "0003_hash_chain"),
        ("jobs", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
