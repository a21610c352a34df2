"""Permissions named in the reader's language.

Django stores a permission's name in English in the database ("Can add content
block") and lists permissions by that name. Here they read "Bibliothèque de
contenus | bloc de contenu | droit d’ajout": the application and model names are
translated by their own catalogs, the right by the one below.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

RIGHTS = {
    "add": _("right to add"),
    "change": _("right to change"),
    "delete": _("right to delete"),
    "view": _("right to view"),
}


def permission_label(permission: Permission) -> str:
    model = permission.content_type.model_class()
    what = str(model._meta.verbose_name) if model else permission.content_type.model
    app = permission.content_type.app_labeled_name.split(" | ")[0]
    right, _sep, rest = permission.codename.partition("_")
    # Only Django's four rights are named here; another permission keeps its name.
    label = RIGHTS.get(right) if rest == permission.content_type.model else None
    return f"{app} | {what} | {label or permission.name}"


class PermissionLabelsMixin:
    """Permission choices (a user's or a group's) listed by their French name."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and db_field.related_model is Permission:
            formfield.label_from_instance = permission_label
            formfield.queryset = formfield.queryset.select_related("content_type")
        return formfield
