"""Reading the audit trail: each row as a French sentence with names and links, its
changes as a table of field labels with old and new values.

Everything a sentence needs is in the row itself (``details["actor"]``, the object's
name in ``details["object"]``), so an entry stays readable once the person or the
object is deleted; names and links of what still exists are looked up once per page
(one query per table the page mentions, never one per row).
"""

from __future__ import annotations

import datetime
import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import tenants.admin_base.grammar as grammar
from audit.actions import ACTION_LABELS, verb
from audit.models import AuditLog
from audit.services import resource_type as resource_type_of
from config import labels as code_labels
from tenants.admin_base.scoping import scope_related

#: What each verb (the end of ``action``) says, the object being ``%(object)s``.
SENTENCES = {
    "create": gettext_lazy("%(actor)s created %(object)s"),
    "update": gettext_lazy("%(actor)s changed %(object)s"),
    "delete": gettext_lazy("%(actor)s deleted %(object)s"),
    "restore": gettext_lazy("%(actor)s restored an earlier version of %(object)s"),
    "review": gettext_lazy("%(actor)s reviewed %(object)s"),
    "approve": gettext_lazy("%(actor)s approved %(object)s"),
    "reject": gettext_lazy("%(actor)s withdrew the approval of %(object)s"),
    "approve_override": gettext_lazy("%(actor)s approved %(object)s despite outdated content"),
    "transition": gettext_lazy("%(actor)s moved %(object)s to the step “%(step)s”"),
    "analyse": gettext_lazy("%(actor)s analysed %(object)s"),
    "rc_analysis": gettext_lazy("The RC analysis failed for %(object)s: %(error)s"),
    "index": gettext_lazy("%(actor)s indexed %(object)s"),
    "index_failed": gettext_lazy("The indexing failed for %(object)s: %(error)s"),
    "reembed": gettext_lazy("%(actor)s re-indexed %(object)s"),
    # The company's Word template and logo (projects/memoir/word_template.py).
    "word_template_set": gettext_lazy("%(actor)s uploaded a new Word template for %(object)s"),
    "word_template_remove": gettext_lazy("%(actor)s removed the Word template of %(object)s"),
    "logo_set": gettext_lazy("%(actor)s uploaded a new logo for %(object)s"),
    "logo_remove": gettext_lazy("%(actor)s removed the logo of %(object)s"),
    "login": gettext_lazy("%(actor)s logged in"),
    "logout": gettext_lazy("%(actor)s logged out"),
    "login_failed": gettext_lazy("Failed login for “%(email)s”"),
    "login_throttled": gettext_lazy("Login refused for “%(email)s” (too many failures)"),
}
#: An action none of the above describes.
OTHER_SENTENCE = gettext_lazy("%(actor)s: “%(action)s” on %(object)s")

#: Labels of the keys ``details`` may hold besides the changes.
DETAIL_LABELS = {
    "error": gettext_lazy("error"),
    "message": gettext_lazy("message"),
    "email": gettext_lazy("email"),
    "retry_after_s": gettext_lazy("retry after (seconds)"),
    "chunks": gettext_lazy("extracts"),
    "model": gettext_lazy("embedding model"),
    "reason": gettext_lazy("reason"),
    "blocks": gettext_lazy("outdated blocks"),
    "override": gettext_lazy("approval despite outdated content"),
    "file": gettext_lazy("file"),
    "size_bytes": gettext_lazy("size (bytes)"),
    "previous_file": gettext_lazy("replaced file"),
}
#: Keys of ``details`` shown elsewhere (the sentence, the tables) or not at all.
_SHOWN_ELSEWHERE = {"object", "actor", "changes", "values"}
_REDACTED = "[redacted]"


@functools.cache
def models_by_resource_type() -> dict[str, type[models.Model]]:
    return {resource_type_of(m): m for m in apps.get_models()}


def actions_of(verbs: list[str] | None = None) -> list[str]:
    """The action codes (``content_block.update``…) ending with one of ``verbs`` (every
    verb by default): every model's resource type with each verb, for a condition the
    action index answers."""
    verbs = list(ACTION_LABELS) if verbs is None else verbs
    return sorted(f"{kind}.{verb}" for kind in models_by_resource_type() for verb in verbs)


def model_of(resource_type: str | None) -> type[models.Model] | None:
    return models_by_resource_type().get(resource_type or "")


def resource_type_label(resource_type: str | None) -> str:
    model = model_of(resource_type)
    if model is None:
        return resource_type or "—"
    return capfirst(str(model._meta.verbose_name_plural))


def admin_url(model: type[models.Model], pk: Any, view: str = "change") -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=[pk])
    except NoReverseMatch:
        return None


# --- field labels and values ---------------------------------------------------------------


def _fields_by_attname(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


def _sub_specs(model: type[models.Model] | None, attname: str) -> dict[str, Any]:
    """How the keys of a JSON field are labelled and typed (a content block's facts:
    ``library.facts``), by key."""
    if model is None or model._meta.label_lower != "library.contentblock" or attname != "metadata":
        return {}
    from library import facts

    found: dict[str, Any] = {}
    for cls in facts.FACTS.values():
        for key, spec in facts.specs(cls):
            found.setdefault(key, spec)
    return found


def _sub_labels(model: type[models.Model] | None, attname: str) -> dict[str, str]:
    """Labels of the keys of a JSON field (a content block's facts)."""
    return {key: str(spec.label) for key, spec in _sub_specs(model, attname).items()}


def format_fact(spec: Any, value: Any) -> str:
    """A fact's value as a person reads it: choice labels, French dates, rows one per
    line with their own labels."""
    if spec is None:
        return format_value(None, value)
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if spec.kind == "rows" and isinstance(value, list) and spec.row is not None:
        from library import facts

        row_specs = facts.specs(spec.row)
        lines = []
        for row in value:
            if not isinstance(row, dict):
                lines.append(format_value(None, row))
                continue
            parts = [
                f"{capfirst(str(row_spec.label))} : {format_fact(row_spec, row.get(key))}"
                for key, row_spec in row_specs
                if row.get(key) not in (None, "", [], {})
            ]
            lines.append(" ; ".join(parts))
        return "\n".join(lines)
    if spec.kind == "choice" and spec.choices is not None:
        labels = {str(k): str(v) for k, v in spec.choices.choices}
        return labels.get(str(value), str(value))
    if spec.kind == "date" and isinstance(value, str):
        day = parse_date(value)
        return formats.date_format(day, "SHORT_DATE_FORMAT") if day else value
    return format_value(None, value)


def _fact_rows(model, attname: str, old: Any, new: Any, *, only_changed: bool = True):
    """``[(label, old, new)]`` of the keys of a JSON field of facts."""
    specs = _sub_specs(model, attname)
    old, new = old or {}, new or {}
    rows = []
    ordered = [k for k in specs if k in old or k in new]
    ordered += sorted(k for k in old.keys() | new.keys() if k not in specs)
    for key in ordered:
        if only_changed and old.get(key) == new.get(key):
            continue
        spec = specs.get(key)
        label = capfirst(str(spec.label)) if spec is not None else capfirst(key.replace("_", " "))
        rows.append((label, format_fact(spec, old.get(key)), format_fact(spec, new.get(key))))
    return rows


def field_label(model: type[models.Model] | None, attname: str, *, cap: bool = True) -> str:
    label = attname.replace("_", " ")
    if model is not None:
        found = _fields_by_attname(model).get(attname)
        if found is not None:
            label = str(found.verbose_name)
    return capfirst(label) if cap else label


def _format_datetime(text: str) -> str | None:
    moment = parse_datetime(text)
    if moment is None:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


def format_value(field: models.Field | None, value: Any, names: dict | None = None) -> str:
    """A stored value as a person reads it: choice labels, yes/no, local dates, names
    of related rows (``names``: ``{pk: name}`` of what ``field`` points to)."""
    if value == _REDACTED:
        return _("(hidden)")
    shown = code_labels.plain(value, field.choices if field is not None else None)
    if shown is not None:
        return shown
    if field is not None and field.many_to_one and names is not None:
        return names.get(str(value)) or _("(deleted)")
    if isinstance(value, str):
        if isinstance(field, models.DateTimeField):
            return _format_datetime(value) or value
        if isinstance(field, models.DateField):
            day = parse_date(value)
            return formats.date_format(day, "SHORT_DATE_FORMAT") if day else value
    if isinstance(value, list):
        return ", ".join(format_value(None, v) for v in value)
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            parts.append(f"{capfirst(str(key).replace('_', ' '))} : {format_value(None, item)}")
        return " ; ".join(parts)
    return str(value)


@dataclass
class Row:
    label: str
    old: str
    new: str


def changed_names(model, attname: str, change: Any) -> list[str]:
    """The names of what changed in one field: its label, or, for a JSON field of
    facts, the labels of the keys that changed."""
    sub = _sub_labels(model, attname)
    if sub and isinstance(change, dict):
        old, new = change.get("old"), change.get("new")
        if isinstance(old, dict | type(None)) and isinstance(new, dict | type(None)):
            old, new = old or {}, new or {}
            keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            if keys:
                return [sub.get(k, k.replace("_", " ")) for k in keys]
    return [field_label(model, attname, cap=False)]


#: Fields every change moves along (a version number, a modification date): shown in
#: an entry's table of changes, not in its sentence.
BOOKKEEPING_FIELDS = {"version", "updated_at", "created_at", "modified_at", "id"}


def changed_field_labels(entry: AuditLog) -> list[str]:
    changes = (entry.details or {}).get("changes")
    if not isinstance(changes, dict):
        return []
    model = model_of(entry.resource_type)
    labels: list[str] = []
    for attname, change in changes.items():
        if attname in BOOKKEEPING_FIELDS:
            continue
        for label in changed_names(model, attname, change):
            if label not in labels:
                labels.append(label)
    return labels


def _related_names(model, values: dict[str, Any], request) -> dict[str, dict[str, str]]:
    """``{attname: {pk: name}}`` of the foreign keys among ``values``' fields (one
    query per relation, scoped to the reader's company)."""
    if model is None:
        return {}
    fields = _fields_by_attname(model)
    names: dict[str, dict[str, str]] = {}
    for attname, ids in values.items():
        target = fields.get(attname)
        if target is None or not target.many_to_one:
            continue
        pks = []
        for pk in ids:
            try:
                pks.append(target.target_field.to_python(pk))
            except Exception:
                continue
        if not pks:
            continue
        queryset = target.related_model._default_manager.filter(pk__in=pks)
        if request is not None:
            queryset = scope_related(request, queryset)
        names[attname] = {str(obj.pk): str(obj) for obj in queryset}
    return names


def change_rows(entry: AuditLog, request=None) -> list[Row]:
    """The changes of one entry, one row per field (per fact for a block's facts)."""
    changes = (entry.details or {}).get("changes")
    if not isinstance(changes, dict):
        return []
    model = model_of(entry.resource_type)
    fields = _fields_by_attname(model) if model else {}
    ids: dict[str, list] = {}
    for attname, change in changes.items():
        if isinstance(change, dict):
            ids[attname] = [v for v in (change.get("old"), change.get("new")) if v]
    names = _related_names(model, ids, request)
    rows = []
    for attname, change in changes.items():
        if not isinstance(change, dict):  # "[redacted]" instead of the pair
            rows.append(Row(field_label(model, attname), _("(hidden)"), _("(hidden)")))
            continue
        old, new = change.get("old"), change.get("new")
        if (
            _sub_specs(model, attname)
            and isinstance(old, dict | type(None))
            and isinstance(new, dict | type(None))
        ):
            rows.extend(Row(*row) for row in _fact_rows(model, attname, old, new))
            continue
        if attname == "id":
            continue  # the object itself, named by the entry
        target = fields.get(attname)
        related = names.get(attname)
        rows.append(
            Row(
                field_label(model, attname),
                format_value(target, old, related),
                format_value(target, new, related),
            )
        )
    return rows


def value_rows(entry: AuditLog, request=None) -> list[tuple[str, str]]:
    """The values a deleted object had (``details["values"]``), by field label."""
    values = (entry.details or {}).get("values")
    if not isinstance(values, dict):
        return []
    model = model_of(entry.resource_type)
    fields = _fields_by_attname(model) if model else {}
    names = _related_names(model, {k: [v] for k, v in values.items() if v}, request)
    rows = []
    for key, value in values.items():
        if key == "id" or value in (None, "", [], {}):
            continue
        if isinstance(value, dict) and _sub_specs(model, key):
            rows += [(label, new) for label, _old, new in _fact_rows(model, key, {}, value)]
            continue
        rows.append((field_label(model, key), format_value(fields.get(key), value, names.get(key))))
    return rows


def other_details(entry: AuditLog) -> list[tuple[str, str]]:
    rows = []
    for key, value in (entry.details or {}).items():
        if key in _SHOWN_ELSEWHERE:
            continue
        if key == "override" and isinstance(value, dict):
            if value.get("reason"):
                rows.append((capfirst(str(DETAIL_LABELS["reason"])), str(value["reason"])))
            blocks = value.get("blocks") or []
            titles = [str(b.get("title") or b.get("block") or "") for b in blocks if b]
            if titles:
                rows.append((capfirst(str(DETAIL_LABELS["blocks"])), ", ".join(titles)))
            continue
        label = DETAIL_LABELS.get(key, key.replace("_", " "))
        rows.append((capfirst(str(label)), format_value(None, value)))
    return rows


# --- sentences -------------------------------------------------------------------------------


@dataclass
class Described:
    """What the page shows of one entry."""

    actor_name: str
    actor_url: str | None
    object_name: str | None
    object_url: str | None
    sentence: SafeString
    action_label: str
    fields: list[str] = field(default_factory=list)


def actor_name_of(entry: AuditLog, users: dict) -> str:
    user = users.get(entry.user_id)
    if user is not None:
        return user[0] or user[1]
    stored = (entry.details or {}).get("actor")
    if isinstance(stored, dict) and (stored.get("name") or stored.get("email")):
        return stored.get("name") or stored.get("email")
    if entry.user_id is not None:
        return _("a deleted user")
    return _("The system")


def _link(text: str, url: str | None) -> SafeString:
    return format_html('<a href="{}">{}</a>', url, text) if url else format_html("{}", text)


def _sentence(entry: AuditLog, actor: SafeString, obj: SafeString | None, fields: list[str]):
    details = entry.details or {}
    name = verb(entry.action)
    if name == "index" and details.get("error"):
        name = "index_failed"
    values: dict[str, Any] = {
        "actor": actor,
        "object": obj if obj is not None else format_html("{}", _("an object")),
        "email": format_html("{}", details.get("email") or "—"),
        "error": format_html("{}", details.get("error") or "—"),
        "action": format_html("{}", entry.action),
        "step": "",
    }
    if name == "transition":
        status = ((details.get("changes") or {}).get("status") or {}).get("new")
        model = model_of(entry.resource_type)
        target = _fields_by_attname(model).get("status") if model else None
        values["step"] = format_html("{}", format_value(target, status))
    template = SENTENCES.get(name, OTHER_SENTENCE)
    text = format_html(str(template).replace("%(", "{").replace(")s", "}"), **values)
    if name == "update" and fields:
        text = format_html(
            str(gettext_lazy("%(sentence)s: %(fields)s")).replace("%(", "{").replace(")s", "}"),
            sentence=text,
            fields=", ".join(fields),
        )
    return SafeString(text[:1].upper() + text[1:]) if text[:1] != "<" else text


def describe(entries: list[AuditLog], request=None, *, links: bool = True) -> None:
    """Set ``entry.described`` (a ``Described``) on each entry: names of people from
    the users table (or the entry's own copy once they are deleted), of objects from
    the entry, links to what still exists and the reader may open."""
    from tenants.models import User

    user_ids = {e.user_id for e in entries if e.user_id}
    users = {}
    if user_ids:
        queryset = User.objects.filter(pk__in=user_ids)
        if request is not None:
            queryset = scope_related(request, queryset)
        users = {pk: (n, m) for pk, n, m in queryset.values_list("pk", "full_name", "email")}
    existing: set = set()
    if links:
        by_type: dict[str, set] = {}
        for e in entries:
            if e.resource_id and model_of(e.resource_type) is not None:
                by_type.setdefault(e.resource_type, set()).add(e.resource_id)
        # Which objects still exist, in one query whatever the number of tables (ids
        # are uuids, unique across tables).
        parts = []
        for kind, ids in sorted(by_type.items()):
            model = model_of(kind)
            queryset = model._default_manager.filter(pk__in=ids)
            if request is not None:
                queryset = scope_related(request, queryset)
            parts.append(queryset.order_by().values_list("pk", flat=True))
        if parts:
            existing = set(parts[0].union(*parts[1:], all=True))
    can_open_users = links and request is not None and request.user.has_perm("tenants.view_user")
    for entry in entries:
        details = entry.details or {}
        actor = actor_name_of(entry, users)
        actor_url = (
            admin_url(User, entry.user_id) if can_open_users and entry.user_id in users else None
        )
        model = model_of(entry.resource_type)
        object_name = details.get("object")
        if object_name is None and model is User and entry.resource_id in users:
            object_name = users[entry.resource_id][0] or users[entry.resource_id][1]
        object_url = None
        if (
            model is not None
            and entry.resource_id in existing
            and (
                request is None
                or request.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
            )
        ):
            object_url = admin_url(model, entry.resource_id)
        obj_phrase = None
        if model is not None and object_name is not None:
            label = str(object_name)
            phrase = grammar.definite(model, "\x00")
            before, _sep, after = phrase.partition("\x00")
            obj_phrase = format_html("{}{}{}", before, _link(label, object_url), after)
        fields = changed_field_labels(entry)
        entry.described = Described(
            actor_name=actor,
            actor_url=actor_url,
            object_name=str(object_name) if object_name is not None else None,
            object_url=object_url,
            sentence=_sentence(entry, _link(actor, actor_url), obj_phrase, fields),
            action_label=str(ACTION_LABELS.get(verb(entry.action), entry.action)),
            fields=fields,
        )


def actor_details(user) -> dict[str, str] | None:
    """What an entry keeps of the person who acted, to stay readable after they are
    deleted."""
    if user is None:
        return None
    return {"name": getattr(user, "full_name", "") or "", "email": getattr(user, "email", "")}


def is_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def local(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
