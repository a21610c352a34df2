"""Column conventions of the schema contract, shared by every table."""

import uuid

from django.contrib.postgres.functions import RandomUUID
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


def uuid_primary_key() -> models.UUIDField:
    """``id uuid PRIMARY KEY DEFAULT gen_random_uuid()``.

    The database default serves rows inserted by other programs; the Python default
    gives unsaved objects (inlines, factories) their id before the INSERT.
    """
    return models.UUIDField(
        primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False
    )


def created_at(*, null: bool = False) -> models.DateTimeField:
    """``created_at timestamptz DEFAULT now()`` (nullable only on legacy tables)."""
    return models.DateTimeField(_("created at"), db_default=Now(), null=null, editable=False)


def year_field(**kwargs) -> models.IntegerField:
    """A calendar year of the company's work: between 1900 and 2100."""
    return models.IntegerField(
        _("year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)], **kwargs
    )
