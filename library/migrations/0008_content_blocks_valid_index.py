"""A company's dated blocks by expiry (the validity filters and valid_on()), built
without blocking writes to content_blocks."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("library", "0007_typed_facts")]

    operations = [
        AddIndexConcurrently(
            model_name="contentblock",
            index=models.Index(
                condition=models.Q(("valid_until__isnull", False)),
                fields=["company", "valid_until"],
                name="idx_content_blocks_company_valid",
            ),
        ),
    ]
