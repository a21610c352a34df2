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
_MODEL_INIT = models.Model.__init__
_PLAIN_SETATTR = object.__setattr__


def loads_directly(model: type[models.Model]) -> bool:
    """Whether rows of ``model`` can become instances without ``__init__``.

    Only when ``__init__`` would do nothing but store the values: no class of the
    model defines ``__init__`` or ``__setattr__`` (a mixin tracking changed fields
    sees every assignment), and every column is behind Django's plain descriptor (a
    FileField's, for one, wraps the value). The fields part is worked out once per
    class; ``__init__`` and ``__setattr__`` are looked up each time, so patching them
    on the class (in a test, say) takes effect at once.
    """
    if model.__init__ is not _MODEL_INIT or model.__setattr__ is not _PLAIN_SETATTR:
        return False
    plain = model.__dict__.get("_plain_fields")
    if plain is None:
        plain = all(
            "__init__" not in klass.__dict__ and "__setattr__" not in klass.__dict__
            for klass in model.__mro__
            if klass not in (models.Model, object)
        ) and all(
            type(getattr(model, field.attname, None)) in _PLAIN_DESCRIPTORS
            for field in model._meta.concrete_fields
        )
        model._plain_fields = plain  # on this class only: __dict__ above, not getattr
    return plain


class DirectLoadModel(models.Model):
    """Base of the project's models: loaded instances skip ``Model.__init__``."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str, field_names: list[str], values: tuple) -> models.Model:
        # ``field_names`` are the attnames of ``values``, in order (Django's contract
        # for from_db); a deferred field is simply absent, as __init__ leaves it.
        # Django's callers pass only loaded fields, never the DEFERRED placeholder
        # that __init__ would skip.
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
