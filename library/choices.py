"""Values of the library's PostgreSQL enum types, with their labels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BlockType(models.TextChoices):
    """Values of the ``content_block_type_enum`` type, in order."""

    COMPANY_PROFILE = "company-profile", _("Company profile")
    PERSON_CV = "person-cv", _("Person CV")
    EQUIPMENT = "equipment", _("Equipment")
    PROCEDURE = "procedure", _("Procedure")
    CERTIFICATION = "certification", _("Certification")
    METHODOLOGY_TEMPLATE = "methodology-template", _("Methodology template")
    PAST_PROJECT_REFERENCE = "past-project-reference", _("Past project reference")


class FileRelationship(models.TextChoices):
    """Values of the ``file_relationship_enum`` type, in order."""

    MAIN_FILE = "main-file", _("Main file")
    PHOTO = "photo", _("Photo")
    CERTIFICATE = "certificate", _("Certificate")
    DATASHEET = "datasheet", _("Datasheet")
