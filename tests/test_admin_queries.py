"""The number of SQL queries of every changelist does not grow with its rows.

Generated from the admin registry: for each registered model, its changelist is read by
a company admin (who may view every tenant table) and by a platform superuser (who also
gets the company column and filter), with 5 and then 50 rows, each row with parents of
its own and every optional relation filled, so a column, a filter choice or a page
annotation that queries per row shows up as a difference.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, reset_queries
from django.db.models import GeneratedField
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pgvector.django import VectorField

from library.models import ContentBlock
from projects.models import ContentMatch, Section
from tests.admin_isolation_support import (
    FACTORIES,
    TENANT_MODELS,
    build,
    client_for,
    label,
    registry,
)
from tests.factories import CompanyFactory, SuperuserFactory, UserFactory

pytestmark = pytest.mark.django_db

ROWS = (5, 50)

#: Rows that reference others through arrays of ids (resolved by ``annotate_page``).
EXTRA = {
    ContentMatch: lambda company: {"blocks": [build(ContentBlock, company) for _ in range(2)]},
    Section: lambda company: {"blocks": [build(ContentBlock, company)]},
}


def _make_row(model, company, n):
    if model is Group:
        return Group.objects.create(name=f"Groupe {n}")
    obj = build(model, company, **EXTRA.get(model, lambda c: {})(company))
    # Every optional foreign key filled, so a column or a filter reading it is exercised.
    optional = {
        f.attname: build(f.related_model, company).pk
        for f in model._meta.concrete_fields
        if f.many_to_one
        and f.null
        and getattr(obj, f.attname) is None
        and f.related_model in FACTORIES
    }
    if optional:
        model._default_manager.filter(pk=obj.pk).update(**optional)
    return obj


def _cases():
    cases = []
    for model, _ in registry():
        tenant = model in TENANT_MODELS
        # A member sees one company: 5 or 50 companies change nothing for them.
        if tenant and model._default_manager.all().company_path != "pk":
            cases.append(pytest.param(model, "admin", id=f"{label(model)}-admin"))
        if tenant or model is Group:
            cases.append(pytest.param(model, "superuser", id=f"{label(model)}-superuser"))
    return cases


def _count_queries(client, url):
    reset_queries()  # the log is also reset when a request starts: count one request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize(("model", "who"), _cases())
def test_changelist_queries_do_not_grow_with_rows(model, who):
    company = CompanyFactory()
    user = SuperuserFactory() if who == "superuser" else UserFactory(company=company, admin=True)
    client = client_for(user)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    client.get(url)  # warm caches (content types, session) before counting
    measured = {}
    made = []
    for rows in ROWS:
        made += [_make_row(model, company, n) for n in range(len(made), rows)]
        response, queries = _count_queries(client, url)
        cl = response.context["cl"]
        assert cl.result_count >= rows
        assert len(cl.result_list) == min(cl.result_count, cl.list_per_page), "a full page"
        measured[rows] = queries
    few, many = (measured[rows] for rows in ROWS)
    assert len(few) == len(many), (
        f"{len(few)} queries with {ROWS[0]} rows, {len(many)} with {ROWS[1]}; "
        f"the extra ones: {_extra(few, many)}"
    )
    # No list shows a vector or a search document: parsing 50 of them is most of a
    # page's time (384 floats each), so no page query selects one.
    for column in _wide_columns(model):
        selected = re.compile(re.escape(column) + r"(,| FROM )")
        assert not any(selected.search(sql) for sql in many), f"{column} is read by the list"


def _wide_columns(model) -> list[str]:
    def wide(field) -> bool:
        if isinstance(field, GeneratedField):
            field = field.output_field
        return isinstance(field, (VectorField, SearchVectorField))

    table = model._meta.db_table
    return [f'"{table}"."{f.column}"' for f in model._meta.concrete_fields if wide(f)]


def _extra(few, many) -> list[str]:
    remaining = list(few)
    extra = []
    for sql in many:
        if sql in remaining:
            remaining.remove(sql)
        else:
            extra.append(sql)
    return extra[:3]
