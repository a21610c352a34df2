"""A block's validity as a column: the earliest expiry that matters among its typed
facts (library.facts.validity), filled by 0007 and kept by ContentBlock.save()."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0005_year_range")]

    operations = [
        migrations.AddField(
            model_name="contentblock",
            name="valid_until",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="valid until"
            ),
        ),
    ]
