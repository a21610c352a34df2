"""Template filters for changes stored as ``{field: {"old": …, "new": …}}``."""

from __future__ import annotations

from django import template
from django.apps import apps

from audit import presentation

register = template.Library()


@register.filter
def changed_labels(changes, model_label: str) -> str:
    """The labels of the changed fields ("titre, qualifications"), for the model
    ``model_label`` ("library.contentblock")."""
    if not isinstance(changes, dict):
        return ""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        model = None
    names: list[str] = []
    for attname, change in changes.items():
        for name in presentation.changed_names(model, attname, change):
            if name not in names:
                names.append(name)
    return ", ".join(names)
