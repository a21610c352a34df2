"""Give every legacy memoire and project an owner.

Rows of the legacy application have no company. They go to the company
'Enpyco (Migrated Data)' and its system user, created here only when legacy rows
exist. The system user is inactive and has an unusable password, so it can never log
in. Set-based: one UPDATE per table, whatever the number of rows; the projects'
UPDATE also keeps each legacy status that is not exactly its new label in
``metadata['legacy_status']``, so that projects.0003 converts the column to the enum
and the way back restores the original. After this, company_id becomes NOT NULL
(projects.0003, rag.0003).
"""

from django.db import migrations
from django.db.models.expressions import RawSQL

from projects.migrations._legacy_status import METADATA_WITH_LEGACY_STATUS

MIGRATED_COMPANY = "Enpyco (Migrated Data)"
SYSTEM_USER_EMAIL = "system+migrated-data@enpyco.invalid"


def adopt_legacy_rows(apps, schema_editor):
    Company = apps.get_model("tenants", "Company")
    User = apps.get_model("tenants", "User")
    Project = apps.get_model("projects", "Project")
    Memoire = apps.get_model("rag", "Memoire")
    db = schema_editor.connection.alias

    orphan_projects = Project.objects.using(db).filter(company__isnull=True)
    orphan_memoires = Memoire.objects.using(db).filter(company__isnull=True)
    if not (orphan_projects.exists() or orphan_memoires.exists()):
        return

    company = Company.objects.using(db).filter(
        name=MIGRATED_COMPANY, settings__migrated=True
    ).first() or Company.objects.using(db).create(
        name=MIGRATED_COMPANY, settings={"migrated": True}
    )
    user = User.objects.using(db).filter(email=SYSTEM_USER_EMAIL).first()
    if user is None:
        user = User.objects.using(db).create(
            email=SYSTEM_USER_EMAIL,
            full_name="Migrated data (system)",
            password="!legacy-migration",  # "!" prefix: an unusable password hash
            company=company,
            role="viewer",
            is_active=False,
            is_staff=False,
            is_superuser=False,
        )
    orphan_projects.update(
        company=company,
        created_by=user,
        metadata=RawSQL(METADATA_WITH_LEGACY_STATUS, []),
    )
    orphan_memoires.update(company=company, uploaded_by=user)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0001_initial"),
        ("projects", "0002_multi_tenant"),
        ("rag", "0002_multi_tenant"),
    ]

    operations = [
        # Reversing needs nothing: the columns holding the assignment are dropped by
        # the reverse of projects.0002 / rag.0002.
        migrations.RunPython(adopt_legacy_rows, migrations.RunPython.noop, elidable=False),
    ]
