"""The admin's side of the audit trail: every addition, change, deletion and inline
change made through a ModelAdmin writes its audit row, with the fields that changed."""

from __future__ import annotations

from typing import Any

from audit import services as audit


def created(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The changes of a creation: every field that got a value, from nothing."""
    return audit.redact(
        {k: {"old": None, "new": v} for k, v in values.items() if v not in (None, "", [], {})}
    )


class AuditedAdminMixin:
    """Mixed into ModelAdmins before ``admin.ModelAdmin``."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._audit_before = audit.snapshot(obj)
        return obj

    def log_addition(self, request, obj, message):
        if not getattr(obj, "_audit_skip_create", False):
            audit.record_object(
                "create", obj, request=request, changes=created(audit.snapshot(obj))
            )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before = getattr(obj, "_audit_before", None)
        if before is None:  # saved without going through get_object (list_editable)
            audit.record_object("update", obj, request=request, extra={"message": message})
            return super().log_change(request, obj, message)
        changes = audit.diff(before, audit.snapshot(obj))
        if changes:
            audit.record_object("update", obj, request=request, changes=changes)
            obj._audit_before = audit.snapshot(obj)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        audit.record_objects(
            "delete",
            objects,
            request=request,
            details_for=lambda obj: {"values": audit.redact(audit.snapshot(obj))},
        )
        return super().log_deletions(request, objects)

    def save_formset(self, request, form, formset, change):
        before = {
            f.instance.pk: {name: f.initial.get(name) for name in f.changed_data}
            for f in formset.initial_forms
        }
        # Django clears the pk of what it deletes: keep it, and the values, for the trail.
        doomed = {
            id(f.instance): (f.instance.pk, audit.snapshot(f.instance))
            for f in formset.deleted_forms
            if f.instance.pk is not None
        }
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit.record_object(
                "create", obj, request=request, changes=created(audit.snapshot(obj))
            )
        for obj, changed in formset.changed_objects:
            after = audit.snapshot(obj)
            changes = {}
            for name in changed:
                field = obj._meta.get_field(name)
                attname = getattr(field, "attname", name)
                changes[attname] = {
                    "old": audit.to_json(before.get(obj.pk, {}).get(name)),
                    "new": after.get(attname),
                }
            audit.record_object("update", obj, request=request, changes=audit.redact(changes))
        for obj in formset.deleted_objects:
            pk, values = doomed.get(id(obj), (obj.pk, audit.snapshot(obj)))
            obj.pk = pk
            try:
                audit.record_object(
                    "delete", obj, request=request, extra={"values": audit.redact(values)}
                )
            finally:
                obj.pk = None
