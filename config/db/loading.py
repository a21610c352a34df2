"""Model instances made from database rows without going through ``Model.__init__``.

``Model.__init__`` serves every way of making an instance (keyword arguments,
defaults, related objects, signals), and a row read from the database needs none of
it: its values are already the attributes. On a page of 50 projects, ``__init__``
costs about 4 µs a row, a fifth of what the ORM spends on the page beyond the SQL.
``Model.from_db`` is Django's documented hook for making loaded instances; this one
writes the row into the instance's ``__dict__`` directly, which is what ``__init__``
ends up doing for a model whose fields are plain columns, and falls back to Django's
path for anything else.
"""

from __future__ import annotations

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

__all__ = ["DirectLoadModel", "loads_directly"]

# Descriptors that, on an instance just made, only store the value in ``__dict__``:
# DeferredAttribute has no __set__, and ForeignKeyDeferredAttribute's also forgets a
# cached related object, which a new instance does not have.
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)

_loads_directly: dict[type[models.Model], bool] = {}


def loads_directly(model: type[models.Model]) -> bool:
    """Whether rows of ``model`` can become instances without ``__init__``: no
    ``__init__`` of its own, and every column behind Django's plain descriptor (a
    FileField's, for one, wraps the value)."""
    try:
        return _loads_directly[model]
    except KeyError:
        pass
    direct = model.__init__ is models.Model.__init__ and all(
        type(getattr(model, field.attname, None)) in _PLAIN_DESCRIPTORS
        for field in model._meta.concrete_fields
    )
    _loads_directly[model] = direct
    return direct


class DirectLoadModel(models.Model):
    """Base of the project's models: loaded instances skip ``Model.__init__``."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str, field_names: list[str], values: tuple) -> models.Model:
        # ``field_names`` are the attnames of ``values``, in order (Django's contract
        # for from_db); a deferred field is simply absent, as __init__ leaves it.
        # Any init signal receiver, whatever its sender, sends every model through
        # __init__: asking the signal about this sender would cost more than the
        # shortcut saves, and the project connects none.
        if pre_init.receivers or post_init.receivers or not loads_directly(cls):
            return super().from_db(db, field_names, values)
        instance = cls.__new__(cls)
        state = ModelState()
        state.adding = False
        state.db = db
        attributes = instance.__dict__
        attributes["_state"] = state
        attributes.update(zip(field_names, values, strict=True))
        return instance
