"""Two companies' data and the helpers shared by the admin isolation, role and query tests.

Everything here is generated from ``django.contrib.admin.site._registry`` and the
factories, so a model registered later is covered without writing new test code:

* ``build(model, company)`` makes one row of any tenant model for a company, through the
  model's ``company_path`` (``project__company`` → a project of that company…);
* company B's rows carry ``MARKER`` in every text column (``Zorglub-<model>-<field>``), so
  a page that shows anything of B contains ``LEAK`` ("zorglub-") or one of B's ids;
* ``world_fixture`` builds A and B once per test module, inside a transaction that is
  rolled back when the module is done (each test still runs in its own savepoint).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from django.test import Client, RequestFactory

from tenants.managers import TenantQuerySet
from tenants.models import Company, Role, User
from tests.admin_helpers import parse_form
from tests.factories import ALL_FACTORIES, CompanyFactory, SuperuserFactory, UserFactory

MARKER = "Zorglub"
#: Found (case-insensitively) in every page that shows one of company B's texts.
LEAK = f"{MARKER.lower()}-"
ROLES = (Role.ADMIN, Role.USER, Role.VIEWER)

SITE = admin.site

FACTORIES: dict[type[models.Model], type] = {}
for _factory in ALL_FACTORIES:  # UserFactory comes before SuperuserFactory
    FACTORIES.setdefault(_factory._meta.model, _factory)


def label(model) -> str:
    return model._meta.label_lower


def registry() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    """The registered models and their admins, in a stable order."""
    return sorted(SITE._registry.items(), key=lambda item: label(item[0]))


def is_tenant_model(model) -> bool:
    return isinstance(model._default_manager.all(), TenantQuerySet)


TENANT_MODELS = [model for model, _ in registry() if is_tenant_model(model)]
NON_TENANT_MODELS = [model for model, _ in registry() if not is_tenant_model(model)]


def forward_relations(model) -> list[models.Field]:
    """The model's own foreign keys, one-to-ones and many-to-manys."""
    return [
        f
        for f in model._meta.get_fields()
        if f.is_relation and not f.auto_created and f.related_model
    ]


# --- building rows -------------------------------------------------------------------------


def _company_head(model) -> str:
    return model._default_manager.all().company_path.split("__")[0]


def build(model, company, shared=None, **overrides):
    """One row of ``model`` belonging to ``company``.

    Parents come from ``shared`` (``{model: row}``) when it holds one, or are built fresh
    for the same company.
    """
    factory = FACTORIES[model]
    if model is Company:
        return factory(**overrides)
    shared = shared or {}
    kwargs = {}
    head = _company_head(model)
    try:
        head_field = model._meta.get_field(head)
    except FieldDoesNotExist:
        head_field = None
    parent = getattr(model, "company_parent", "")
    if parent:  # a child carrying its company: the company is its parent's
        head, head_field = parent, model._meta.get_field(parent)
    if head_field is not None and head_field.is_relation:
        target = head_field.related_model
        kwargs[head] = (
            company if target is Company else shared.get(target) or build(target, company)
        )
    else:
        # A plain company id column (the audit log): the factory derives it from the user.
        kwargs["user"] = shared.get(User) or build(User, company)
    for rel in model._meta.concrete_fields:
        if rel.is_relation and rel.name not in kwargs and rel.related_model in shared:
            kwargs[rel.name] = shared[rel.related_model]
    kwargs.update(overrides)
    return factory(**kwargs)


def marked_values(model) -> dict:
    """``Zorglub-<model>-<field>`` for every free-text column of ``model``."""
    name = model._meta.model_name
    values = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.is_relation or f.choices or f.name == "password":
            continue
        text = f"{MARKER}-{name}-{f.name}"
        if isinstance(f, models.EmailField):
            values[f.name] = f"{LEAK}{name}-{f.name}@b.example"[: f.max_length]
        elif isinstance(f, models.CharField | models.TextField):
            values[f.name] = text[: f.max_length] if f.max_length else text
        elif isinstance(f, ArrayField) and isinstance(
            f.base_field, models.CharField | models.TextField
        ):
            values[f.name] = [text]
    return values


def creation_order(model_list) -> list:
    """``model_list`` with the targets of each model's foreign keys first."""
    pending, done = list(model_list), []
    while pending:
        for model in pending:
            targets = {
                f.related_model
                for f in model._meta.concrete_fields
                if f.is_relation and f.related_model is not model
            }
            if not (targets & set(pending)):
                break
        else:  # a cycle: take them as they come
            model = pending[0]
        pending.remove(model)
        done.append(model)
    return done


@dataclass
class World:
    a: Company
    b: Company
    members: dict[str, User]
    superuser: User
    a_objs: dict = field(default_factory=dict)
    b_objs: dict = field(default_factory=dict)
    b_ids: frozenset = frozenset()
    sessions: dict = field(default_factory=dict)

    def b_pk(self, model) -> str:
        return str(self.b_objs[model].pk)

    def client(self, who: str) -> Client:
        """A client logged in as A's ``who`` (a role, or "superuser"), without a new
        session per test: the session was opened with the module's data."""
        client = Client()
        name = settings.SESSION_COOKIE_NAME
        client.cookies[name] = self.sessions[who].cookies[name].value
        return client


def company_ids(company) -> frozenset[str]:
    """The ids of every row of ``company`` in the registered tenant tables."""
    ids = set()
    for model in TENANT_MODELS:
        ids.update(
            str(pk)
            for pk in model._default_manager.for_company(company.pk).values_list("pk", flat=True)
        )
    return frozenset(ids)


def build_world() -> World:
    a = CompanyFactory(name="Alpha Bâtiment")
    b = CompanyFactory(**marked_values(Company))
    world = World(
        a=a,
        b=b,
        members={role: UserFactory(company=a, role=role) for role in ROLES},
        superuser=SuperuserFactory(),
    )
    world.a_objs = {Company: a, User: UserFactory(company=a, full_name="Auteur Alpha")}
    world.b_objs = {Company: b, User: UserFactory(company=b, **marked_values(User))}
    for model in creation_order([m for m in TENANT_MODELS if m in FACTORIES]):
        if model in world.a_objs:
            continue
        world.a_objs[model] = build(model, a, world.a_objs)
        world.b_objs[model] = build(model, b, world.b_objs, **marked_values(model))
    world.b_ids = company_ids(b)
    world.sessions = {role: client_for(user) for role, user in world.members.items()}
    world.sessions["superuser"] = client_for(world.superuser)
    return world


def world_fixture():
    """A module-scoped ``world`` fixture: ``world = world_fixture()`` in a test module."""

    @pytest.fixture(scope="module")
    def world(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                data = build_world()
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
        try:
            yield data
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)

    return world


# --- looking for company B -----------------------------------------------------------------


def find_leaks(world: World, text: str, ignore=()) -> list[str]:
    """Whatever of company B ``text`` shows: its marked texts and its ids."""
    low = text.lower()
    found = []
    at = low.find(LEAK)
    if at >= 0:
        found.append(text[max(0, at - 80) : at + 80])
    ignored = {str(i).lower() for i in ignore}
    found.extend(pk for pk in sorted(world.b_ids) if pk not in ignored and pk in low)
    return found


def snapshot(company) -> dict[str, tuple[int, str]]:
    """``{table: (rows, checksum of their values)}`` of ``company`` in every registered
    tenant table, read in one query."""
    selects, params = [], []
    for model in TENANT_MODELS:
        queryset = model._default_manager.for_company(company.pk).order_by("pk")
        sql, sql_params = queryset.query.sql_with_params()
        selects.append(
            f"(SELECT ARRAY[count(*)::text, md5(coalesce(string_agg(row_to_json(s)::text, "
            f"'|'), ''))] FROM ({sql}) s)"
        )
        params += sql_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        row = cursor.fetchone()
    return {label(model): (int(v[0]), v[1]) for model, v in zip(TENANT_MODELS, row, strict=True)}


def counts() -> dict[str, int]:
    return {label(model): model._default_manager.count() for model, _ in registry()}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def request_for(user, path="/admin/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def normalised(response, *ids) -> tuple:
    """What a response says, with ``ids`` and CSRF tokens blanked (to compare answers)."""

    def clean(text: str) -> str:
        for i in ids:
            text = text.replace(str(i), "<id>")
        return _CSRF.sub("", text)

    content = "" if response.streaming else clean(response.content.decode(errors="replace"))
    return response.status_code, clean(response.get("Location", "")), content


def random_id() -> str:
    return str(uuid.uuid4())


# --- reading a form the way a browser submits it ------------------------------------------


def form_data(html: str, form_id: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(data, templates)``: what the form submits, and its inlines' empty-form rows."""
    parser = parse_form(html, form_id)
    data: dict[str, list[str]] = {}
    templates: dict[str, list[str]] = {}
    for name, value in parser.fields:
        (templates if "__prefix__" in name else data).setdefault(name, []).append(value)
    return data, templates
