"""Writing the audit trail.

One row per change: ``<resource>.<verb>`` (``content_block.update``), who, for which
company, what changed (old and new value of each field), from which address and
browser. Secrets never enter the trail.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models

from audit.models import AuditLog

#: Fields whose values are never written to the trail, only the fact they changed.
SECRET_FIELDS = {"password"}
_REDACTED = "[redacted]"


def resource_type(model: type[models.Model] | models.Model) -> str:
    """``content_block`` for ContentBlock; a model may set ``audit_resource_type``."""
    explicit = getattr(model, "audit_resource_type", None)
    if explicit:
        return explicit
    name = model._meta.object_name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def to_json(value: Any) -> Any:
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # One representation per instant: a value read from the database (UTC) and the
        # same value from a form (current time zone) must not look like a change.
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's concrete field values, JSON-ready (secrets included: redact before
    writing, as ``diff`` and ``redact`` do)."""
    values = {}
    deferred = obj.get_deferred_fields()
    for field in obj._meta.concrete_fields:
        if getattr(field, "generated", False):
            continue  # computed by the database from the other fields
        if field.attname in deferred:
            continue  # not loaded, so not changed by whoever loaded it
        value = getattr(obj, field.attname)
        if isinstance(value, models.expressions.BaseExpression | models.Field):
            continue  # a database default not fetched yet
        values[field.attname] = to_json(value)
    return values


def redact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (_REDACTED if k in SECRET_FIELDS else v) for k, v in values.items()}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"old": …, "new": …}}`` for each field whose value changed."""
    changes = {}
    for name in sorted(after.keys() | before.keys()):
        old, new = before.get(name), after.get(name)
        if old != new:
            if name in SECRET_FIELDS:
                old = new = _REDACTED
            changes[name] = {"old": old, "new": new}
    return changes


def company_id_of(obj: models.Model) -> Any:
    """The id of the company owning ``obj``, following its queryset's company path."""
    from tenants.models import Company

    if isinstance(obj, Company):
        return obj.pk
    # ``_meta.model`` rather than ``type(obj)``: ``request.user`` is a lazy proxy.
    path = getattr(obj._meta.model._default_manager.get_queryset(), "company_path", None)
    if not path:
        return None
    *relations, last = path.split("__")
    target = obj
    for name in relations:
        target = getattr(target, name, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


def client_ip(request) -> str | None:
    if request is None:
        return None
    if settings.AUDIT_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The last address is the one our proxy appended; those before it come
            # from the client and can be forged (to dodge the login throttle).
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _entry(
    action: str,
    *,
    request=None,
    user=None,
    company_id=None,
    resource_type: str | None = None,
    resource_id=None,
    details: dict | None = None,
) -> AuditLog:
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    if company_id is None and user is not None:
        company_id = user.company_id
    details = dict(details or {})
    if user is not None and "actor" not in details:
        # Who acted, as they were named then: the entry stays readable once the user
        # is deleted (``user_id`` is a plain uuid, see AuditLog).
        details["actor"] = {"name": user.full_name or "", "email": user.email}
    return AuditLog(
        action=action,
        user_id=getattr(user, "pk", None),
        company_id=company_id,
        resource_type=resource_type,
        resource_id=resource_id,
        details=to_json(details),
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT") or None) if request else None,
    )


def record(action: str, **kwargs) -> AuditLog:
    """Write one audit row (see ``_entry`` for the keyword arguments)."""
    entry = _entry(action, **kwargs)
    entry.save(force_insert=True)
    return entry


def record_object(
    verb: str,
    obj: models.Model,
    *,
    request=None,
    user=None,
    changes: dict | None = None,
    extra: dict | None = None,
) -> AuditLog:
    """``<resource>.<verb>`` for one object, with its field changes."""
    details = {"object": str(obj)}
    if changes is not None:
        details["changes"] = changes
    if extra:
        details.update(extra)
    return record(
        f"{resource_type(obj)}.{verb}",
        request=request,
        user=user,
        company_id=company_id_of(obj),
        resource_type=resource_type(obj),
        resource_id=obj.pk if isinstance(obj.pk, uuid.UUID) else None,
        details=details,
    )


def record_objects(
    verb: str, objs: Iterable[models.Model], *, request=None, details_for=None
) -> int:
    """One row per object, written in a single INSERT; ``details_for(obj)`` adds to
    each row's details."""
    entries = [
        _entry(
            f"{resource_type(obj)}.{verb}",
            request=request,
            company_id=company_id_of(obj),
            resource_type=resource_type(obj),
            resource_id=obj.pk if isinstance(obj.pk, uuid.UUID) else None,
            details={"object": str(obj), **(details_for(obj) if details_for else {})},
        )
        for obj in objs
    ]
    AuditLog.objects.bulk_create(entries)
    return len(entries)
