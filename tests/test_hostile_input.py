"""Hostile input never gets an HTTP 500, and never changes a row.

Generated from the admin registry, as every role: each add and change form is posted
with one field at a time set to a value the application must refuse (NUL bytes, NaN,
Infinity, 1e400, 5,000-digit numbers, deep or non-standard JSON, 5 kB tags, non-uuid
ids, out-of-range years), and each changelist is read with hostile filter, search,
ordering, page and date-hierarchy parameters. Every answer must be below 500, and the
company's rows must be what they were.
"""

from __future__ import annotations

import pytest
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.urls import reverse

from tests.admin_isolation_support import (
    ROLES,
    TENANT_MODELS,
    form_data,
    label,
    registry,
    request_for,
    snapshot,
    world_fixture,
)

pytestmark = pytest.mark.django_db

world = world_fixture()
WHO = (*ROLES, "superuser")

DIGITS = "9" * 5000
DEEP_JSON = "[" * 5000 + "]" * 5000
JSON_VALUES = [
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": -Infinity}',
    '{"a": 1e400}',
    '{"a": "x\\u0000y"}',
    '{"a\\u0000": 1}',
    '{"a": ' + DIGITS + "}",
    DEEP_JSON,
]
NUMBER_VALUES = ["NaN", "Infinity", "-Infinity", "1e400", DIGITS, "1" + "0" * 400]
YEAR_VALUES = ["-1", "99999", "0"]
TEXT_VALUES = ["avant\x00après"]
ARRAY_VALUES = ["t" * 5000, "a\x00b"]
ID_VALUES = ["not-a-uuid", "1' OR '1'='1"]
DATE_VALUES = ["99999-01-01", "2026-02-30", "31/02/2026"]


def _hostile_values(field: models.Field) -> list[str]:
    if isinstance(field, models.JSONField):
        return JSON_VALUES
    if isinstance(field, ArrayField):
        return ARRAY_VALUES
    if field.is_relation:
        return ID_VALUES
    if field.name == "year":
        return YEAR_VALUES + NUMBER_VALUES
    if isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
        return NUMBER_VALUES
    if isinstance(field, models.DateTimeField | models.DateField):
        return DATE_VALUES
    if isinstance(field, models.UUIDField):
        return ID_VALUES
    if isinstance(field, models.CharField | models.TextField):
        return TEXT_VALUES
    return []


def _model_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _form_cases():
    return [
        pytest.param(model, who, id=f"{label(model)}-{who}")
        for model, _ in registry()
        if model in TENANT_MODELS
        for who in ("admin", "superuser")
    ]


def _base_form(client, model, obj) -> dict[str, list[str]] | None:
    page = client.get(_url(model, "change", obj.pk))
    assert page.status_code < 500
    if page.status_code != 200:
        return None
    data, _ = form_data(page.content.decode(), f"{model._meta.model_name}_form")
    return data if "_save" in page.content.decode() else None


@pytest.mark.parametrize(("model", "who"), _form_cases())
def test_hostile_form_values_are_refused_without_a_500(world, model, who):
    client = world.client(who)
    model_admin = dict(registry())[model]
    user = world.superuser if who == "superuser" else world.members[who]
    obj = world.a_objs[model]
    if not model_admin.has_change_permission(request_for(user), obj):
        pytest.skip("read-only for this role")
    data = _base_form(client, model, obj)
    if data is None:
        pytest.skip("no editable form")
    before = snapshot(world.a)
    problems = []
    for name in sorted(data):
        field = _model_field(model, name)
        if field is None or not field.editable or field.primary_key:
            continue
        for value in _hostile_values(field):
            response = client.post(_url(model, "change", obj.pk), {**data, name: [value]})
            if response.status_code >= 500:
                problems.append(f"{name}={value[:30]!r}: {response.status_code}")
            elif response.status_code == 302:
                problems.append(f"{name}={value[:30]!r}: accepted")
    # A body far over the upload limit is refused before any form sees it.
    response = client.post(_url(model, "change", obj.pk), {**data, "_huge": ["x" * 10_000_000]})
    if response.status_code >= 500:
        problems.append(f"10 MB body: {response.status_code}")
    assert problems == []
    assert snapshot(world.a) == before


def _changelist_params(model, model_admin) -> list[str]:
    """Query-string keys the changelist's filters take, and the date hierarchy's."""
    keys = []
    for item in model_admin.list_filter or ():
        if isinstance(item, str):
            field = _model_field(model, item.split("__")[0])
            if field is None:
                continue
            if field.is_relation:
                keys += [f"{item}__id__exact", f"{item}__isnull"]
            else:
                keys += [f"{item}__exact", f"{item}__isnull", item]
        elif isinstance(item, tuple):
            keys.append(f"{item[0]}__exact")
        elif hasattr(item, "parameter_name"):
            keys.append(item.parameter_name)
    keys += ["company__id__exact"]
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        keys += [f"{field}__year", f"{field}__month", f"{field}__day"]
    return keys


FILTER_VALUES = ["bogus", "not-a-uuid", "NaN", "99999", "-1", "\x00", DIGITS, "2026-13-45"]


def _changelist_cases():
    return [
        pytest.param(model, who, id=f"{label(model)}-{who}")
        for model, _ in registry()
        for who in WHO
    ]


@pytest.mark.parametrize(("model", "who"), _changelist_cases())
def test_hostile_changelist_parameters_never_give_a_500(world, model, who):
    client = world.client(who)
    model_admin = dict(registry())[model]
    url = _url(model, "changelist")
    problems = []
    queries = [
        {key: value} for key in _changelist_params(model, model_admin) for value in FILTER_VALUES
    ]
    queries += [
        {"q": "a\x00b"},
        {"q": "x" * 5000},
        {"q": DIGITS},
        {"o": "99.-x.bogus"},
        {"p": "-1"},
        {"p": "abc"},
        {"p": DIGITS},
        {"e": "1"},
        {"_to_field": "password"},
        {"_popup": "1", "_to_field": "bogus"},
    ]
    for params in queries:
        response = client.get(url, params)
        if response.status_code >= 500:
            problems.append(f"{params!r:.80}: {response.status_code}")
    assert problems == []


def _autocomplete_cases():
    cases = []
    for model, _model_admin in registry():
        for field in model._meta.get_fields():
            if field.is_relation and field.related_model is not None:
                cases.append((model, field.name))
    return cases


@pytest.mark.parametrize("who", WHO)
def test_hostile_autocomplete_requests_never_give_a_500(world, who):
    client = world.client(who)
    url = reverse("admin:autocomplete")
    problems = []
    requests = [
        {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": name,
        }
        for model, name in _autocomplete_cases()
    ]
    requests += [
        {"app_label": "bogus", "model_name": "x", "field_name": "y"},
        {"app_label": "projects", "model_name": "section", "field_name": "project", "term": "\x00"},
        {"app_label": "projects", "model_name": "section", "field_name": "project", "page": "abc"},
    ]
    for params in requests:
        for extra in ({}, {"term": "a\x00"}, {"page": DIGITS}):
            response = client.get(url, {**params, **extra})
            if response.status_code >= 500:
                problems.append(f"{params!r:.100} {extra!r:.30}: {response.status_code}")
    assert problems == []
