"""Company isolation of the admin, generated from the admin registry.

For every registered tenant model and every role of company A, against the rows of
company B (whose texts all contain ``Zorglub-``): changelists (plain, searched, faceted,
as a raw-id popup, filtered on B's ids), the change/delete/history/custom pages of B's
row (answered exactly like an id that does not exist), A's own pages, autocomplete for
every relation, actions, add and change POSTs carrying B's ids (also in inline rows),
list_filter choices and raw-id labels. A model registered later is covered as soon as
it has a factory in ``tests.factories``.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import override_settings
from django.urls import reverse

from library.models import StoredFile
from projects.models import ProjectDocument
from rag.models import Memoire
from tenants.admin_base.widgets import ScopedRawIdWidget
from tenants.models import Company, User
from tests.admin_isolation_support import (
    FACTORIES,
    MARKER,
    NON_TENANT_MODELS,
    ROLES,
    SITE,
    TENANT_MODELS,
    build,
    counts,
    find_leaks,
    form_data,
    forward_relations,
    is_tenant_model,
    label,
    marked_values,
    normalised,
    random_id,
    registry,
    request_for,
    snapshot,
    world_fixture,
)

pytestmark = pytest.mark.django_db

world = world_fixture()

PASSWORD = "Un-Mot-De-Passe-Solide-2026"

#: What an add form needs beyond the fields of the change form (fresh values each time).
ADD_EXTRA = {
    User: lambda: {"password1": [PASSWORD], "password2": [PASSWORD], "usable_password": ["true"]},
    Memoire: lambda: {
        "document": [
            SimpleUploadedFile(
                "memoire.txt", b"M\xc3\xa9moire technique de test.\n" * 20, "text/plain"
            )
        ]
    },
    # A library file is created by uploading one (a new content each time: the same
    # content is stored once per company).
    # A consultation document is created by uploading one (a new content each time).
    ProjectDocument: lambda: {
        "upload": [
            SimpleUploadedFile(
                "cctp.txt", f"CCTP — lot unique {uuid.uuid4()}\n".encode() * 5, "text/plain"
            )
        ],
        "kind": ["cctp"],
    },
    StoredFile: lambda: {
        "upload": [
            SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes, "image/png")
        ]
    },
}


def _cases(models_):
    return [
        pytest.param(model, role, id=f"{label(model)}-{role}")
        for model in models_
        for role in ROLES
    ]


CASES = _cases(TENANT_MODELS)


@pytest.fixture(scope="module", autouse=True)
def _uploads_out_of_the_checkout(tmp_path_factory):
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture
def b_untouched(world):
    """Fails the test if anything of company B changed."""
    before = snapshot(world.b)
    yield
    assert snapshot(world.b) == before, "company B's rows were changed"


def client_for(world, role):
    return world.client(role)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response, *ids) -> list[str]:
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    for i in ids:
        texts = [t.replace(str(i), "<id>") for t in texts]
    return texts


def text(response) -> str:
    return "" if response.streaming else response.content.decode(errors="replace")


def _server_set_fields(model_admin) -> list[str]:
    fields = [model_admin.creator_field] if getattr(model_admin, "creator_field", None) else []
    if any(f.name == "company" for f in model_admin.model._meta.concrete_fields):
        fields.append("company")
    return fields


# --- the registry is fully covered ------------------------------------------------------


def test_every_registered_tenant_model_has_a_factory():
    missing = [label(m) for m in TENANT_MODELS if m not in FACTORIES]
    assert not missing, f"add a factory to tests/factories.py for {missing}"


def test_every_registered_model_is_tenant_data_or_forbidden_to_members():
    """Only Django's own tables may lack a TenantQuerySet (they are checked below)."""
    assert {m._meta.app_label for m in NON_TENANT_MODELS} <= {"auth", "contenttypes", "sessions"}


@pytest.mark.parametrize(("model", "role"), _cases(NON_TENANT_MODELS))
def test_non_tenant_models_are_forbidden_to_members(world, model, role):
    client = client_for(world, role)
    assert client.get(url(model, "changelist")).status_code == 403
    assert client.get(url(model, "add")).status_code == 403
    assert client.post(url(model, "add"), {"name": f"{MARKER}-x"}).status_code == 403
    assert client.get(url(model, "change", random_id())).status_code == 403
    assert not SITE._registry[model].has_view_permission(request_for(world.members[role]))


def test_the_snapshot_of_b_sees_every_change(world):
    before = snapshot(world.b)
    for model in TENANT_MODELS:
        obj = world.b_objs[model]
        if model._meta.db_table == "audit_log":  # PostgreSQL refuses UPDATE there
            continue
        texts = [
            f for f in marked_values(model) if not isinstance(model._meta.get_field(f), ArrayField)
        ]
        if not texts:
            continue
        model._default_manager.filter(pk=obj.pk).update(**{texts[0]: f"{MARKER}-changed"})
        after = snapshot(world.b)
        assert after[label(model)] != before[label(model)], label(model)
        before = after


# --- changelists ----------------------------------------------------------------------------


def _filter_params(world, model, model_admin, request) -> list[dict[str, str]]:
    """Changelist parameters pointing at company B: its row, its related rows, every
    relation of list_filter, and the company column itself."""
    params = [{f"{model._meta.pk.name}__exact": world.b_pk(model)}]
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model in world.b_objs:
            target = world.b_objs[f.related_model]
            params.append(
                {
                    f"{f.name}__{f.target_field.name}__exact": str(
                        getattr(target, f.target_field.attname)
                    )
                }
            )
    path = model._default_manager.all().company_path
    if path not in ("pk", "company") and "__" not in path:  # a plain company id column
        params.append({path: str(world.b.pk)})
    for item in model_admin.get_list_filter(request):
        name = (
            item if isinstance(item, str) else item[0] if isinstance(item, tuple | list) else None
        )
        if not name:
            continue
        last = get_fields_from_path(model, name)[-1]
        if last.is_relation and last.related_model in world.b_objs:
            target = world.b_objs[last.related_model]
            params.append(
                {
                    f"{name}__{last.target_field.name}__exact": str(
                        getattr(target, last.target_field.attname)
                    )
                }
            )
    unique = []
    for p in params:
        if p not in unique:
            unique.append(p)
    return unique


def _check_filter_choices(world, cl):
    for spec in cl.filter_specs:
        choices = list(getattr(spec, "lookup_choices", []) or [])
        rendered = [str(c.get("display")) for c in spec.choices(cl)]
        assert not find_leaks(world, repr(choices) + repr(rendered)), (
            f"list_filter {spec.title!r} offers company B's rows"
        )


@pytest.mark.parametrize(("model", "role"), CASES)
def test_changelists_show_nothing_of_b(world, model, role, b_untouched):
    model_admin = SITE._registry[model]
    request = request_for(world.members[role])
    client = client_for(world, role)
    changelist = url(model, "changelist")
    can_view = model_admin.has_view_or_change_permission(request)
    pk_name = model._meta.pk.name

    variants = [
        ({}, ()),
        ({"q": MARKER, "_facets": "1"}, ()),
        ({"_to_field": pk_name, "_popup": "1"}, ()),
    ]
    variants += [
        ({**p, "_facets": "1"}, tuple(p.values()))
        for p in _filter_params(world, model, model_admin, request)
    ]
    for params, echoed in variants:
        response = client.get(changelist, params)
        if not can_view:
            assert response.status_code == 403, params
            continue
        assert response.status_code in (200, 302), (params, response.status_code)
        if response.status_code == 302:  # an invalid lookup: ?e=1, nothing listed
            assert "e=1" in response["Location"], params
            continue
        cl = response.context["cl"]
        shown = {str(obj.pk) for obj in cl.result_list}
        assert not shown & world.b_ids, f"{params} lists company B's rows"
        assert not find_leaks(world, text(response), echoed), params
        if not params:
            assert str(world.a_objs[model].pk) in shown, "the changelist lists A's row"
            _check_filter_choices(world, cl)
        if params.get("q") == MARKER and model_admin.get_search_fields(request):
            assert not shown


# --- B's pages answer like ids that do not exist --------------------------------------------


def _object_url_names(model_admin) -> list[str]:
    return sorted(
        p.name
        for p in model_admin.get_urls()
        if p.name and len(getattr(p.pattern, "converters", {})) == 1
    )


@pytest.mark.parametrize(("model", "role"), CASES)
def test_b_pages_answer_like_ids_that_do_not_exist(world, model, role, b_untouched):
    model_admin = SITE._registry[model]
    client = client_for(world, role)
    b_pk = world.b_pk(model)
    content_type = ContentType.objects.get_for_model(model).pk
    urls = [
        lambda pk, n=n: reverse(f"admin:{n}", args=[pk]) for n in _object_url_names(model_admin)
    ]
    urls.append(lambda pk: reverse("admin:view_on_site", args=[content_type, pk]))
    assert len(urls) >= 4  # change, delete, history, view on site
    for make_url in urls:
        for method in ("get", "post"):
            answers = []
            for pk in (b_pk, random_id()):
                client.cookies.pop("messages", None)
                response = getattr(client, method)(make_url(pk), {"post": "yes"})
                answers.append((normalised(response, pk), messages_of(response, pk)))
            assert answers[0] == answers[1], f"{method.upper()} {make_url(b_pk)}"


#: The site's pages that take a company's id, beside the model admins' (the company's Word
#: template and logo, projects/memoir/word_template_admin.py).
COMPANY_PAGES = (
    "memoir_word_template_company",
    "memoir_word_template_download",
    "memoir_word_template_logo",
    "memoir_word_template_starter",
)


@pytest.mark.parametrize("role", ROLES)
def test_b_company_pages_answer_like_ids_that_do_not_exist(world, role, b_untouched):
    client = client_for(world, role)
    for name in COMPANY_PAGES:
        for method in ("get", "post"):
            answers = []
            for pk in (world.b.pk, random_id()):
                client.cookies.pop("messages", None)
                response = getattr(client, method)(
                    reverse(f"admin:{name}", args=[pk]), {"action": "remove_logo"}
                )
                answers.append((normalised(response, pk), messages_of(response, pk)))
            assert answers[0] == answers[1], f"{method.upper()} {name}"
            assert response.status_code == 404, f"{method.upper()} {name}"


@pytest.mark.parametrize(("model", "role"), CASES)
def test_a_pages_show_nothing_of_b(world, model, role, b_untouched):
    model_admin = SITE._registry[model]
    client = client_for(world, role)
    a_pk = world.a_objs[model].pk
    pages = [reverse(f"admin:{n}", args=[a_pk]) for n in _object_url_names(model_admin)]
    # The add form, pre-filled (?field=id) with B's rows.
    prefill = "&".join(
        f"{f.name}={world.b_pk(f.related_model)}"
        for f in forward_relations(model)
        if f.related_model in world.b_objs
    )
    pages.append(f"{url(model, 'add')}?{prefill}")
    for page in pages:
        response = client.get(page)
        assert response.status_code in (200, 302, 403, 404, 405), page
        assert not find_leaks(world, text(response)), page


def test_ids_of_b_stored_in_arrays_of_a_show_nothing_of_b(world, b_untouched):
    """Arrays of ids (matched blocks, source blocks…) are resolved among A's rows only."""
    client = client_for(world, "admin")
    checked = 0
    for model in TENANT_MODELS:
        arrays = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(getattr(f, "base_field", None), models.UUIDField)
        ]
        if not arrays:
            continue
        obj = world.a_objs[model]
        model._default_manager.filter(pk=obj.pk).update(**{n: sorted(world.b_ids) for n in arrays})
        for page in (url(model, "changelist"), url(model, "change", obj.pk)):
            response = client.get(page)
            assert response.status_code == 200
            assert not find_leaks(world, text(response), ignore=world.b_ids), page
        checked += 1
    assert checked


# --- autocomplete --------------------------------------------------------------------------


def _autocomplete_cases():
    cases = []
    for model, _ in registry():
        for f in forward_relations(model):
            target_admin = SITE._registry.get(f.related_model)
            if target_admin is None or not target_admin.search_fields:
                continue
            for role in ROLES:
                cases.append(
                    pytest.param(model, f.name, role, id=f"{label(model)}.{f.name}-{role}")
                )
    return cases


@pytest.mark.parametrize(("model", "field_name", "role"), _autocomplete_cases())
def test_autocomplete_answers_nothing_of_b(world, model, field_name, role, b_untouched):
    target = model._meta.get_field(field_name).related_model
    target_admin = SITE._registry[target]
    client = client_for(world, role)
    allowed = is_tenant_model(target) and target_admin.has_view_permission(
        request_for(world.members[role])
    )
    terms = ["", MARKER]
    if target in world.b_objs:
        terms.append(world.b_pk(target))
    for term in terms:
        response = client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field_name,
                "term": term,
            },
        )
        if not allowed:
            assert response.status_code == 403, term
            continue
        assert response.status_code == 200, term
        ids = {str(r["id"]) for r in response.json()["results"]}
        assert not ids & world.b_ids, term
        assert not find_leaks(world, text(response)), term
        if term == "" and target in world.a_objs:
            assert str(world.a_objs[target].pk) in ids, "autocomplete offers A's rows"


# --- actions -----------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "role"), CASES)
def test_actions_touch_nothing_of_b(world, model, role, b_untouched):
    model_admin = SITE._registry[model]
    request = request_for(world.members[role], url(model, "changelist"))
    client = client_for(world, role)
    changelist = url(model, "changelist")
    b_pk = world.b_pk(model)
    names = set(model_admin.get_actions(request)) | {"delete_selected"}
    for name in sorted(names):
        selected = {"action": name, "_selected_action": [b_pk], "index": "0"}
        # The intermediate (confirmation) page, then the confirmed action.
        response = client.post(changelist, selected)
        assert response.status_code in (200, 302, 403), name
        assert not find_leaks(world, text(response)), name
        client.post(changelist, {**selected, "post": "yes"})
        if model_admin.search_fields:  # "all rows matching the search", B's marker
            client.post(
                f"{changelist}?q={MARKER}", {**selected, "select_across": "1", "post": "yes"}
            )


# --- POSTs carrying B's ids ---------------------------------------------------------------


def _object_for_forms(world, model):
    """A row of A to open the change form of (a fresh one: tests may change it)."""
    return world.a if model is Company else build(model, world.a)


def _add_data(change_data, add_page_data, model) -> dict[str, list]:
    """An add POST from a change form's values: inline rows dropped, add-only fields from
    the add page (``ADD_EXTRA`` is added to each POST by ``_with_extra``)."""
    prefixes = [k.removesuffix("-TOTAL_FORMS") for k in add_page_data if k.endswith("-TOTAL_FORMS")]
    prefixes += [k.removesuffix("-TOTAL_FORMS") for k in change_data if k.endswith("-TOTAL_FORMS")]
    data = {
        k: v for k, v in change_data.items() if not any(k.startswith(f"{p}-") for p in prefixes)
    }
    for k, v in add_page_data.items():
        if k not in data or any(k.startswith(f"{p}-") for p in prefixes):
            data[k] = v
    return data


def _with_extra(model, post_url, data) -> dict[str, list]:
    """``data`` plus what an add form of ``model`` needs beyond (``ADD_EXTRA``)."""
    if post_url.endswith("/add/"):
        return {**data, **ADD_EXTRA.get(model, dict)()}
    return data


def _form_errors(response, *ids) -> dict:
    errors = {}
    form = response.context["adminform"].form
    errors["form"] = {k: [str(e) for e in v] for k, v in form.errors.items()}
    for inline in response.context.get("inline_admin_formsets") or []:
        formset = inline.formset
        errors[formset.prefix] = [
            {k: [str(e) for e in v] for k, v in form_errors.items()}
            for form_errors in formset.errors
        ] + [str(e) for e in formset.non_form_errors()]
    text_ = repr(errors)
    for i in ids:
        text_ = text_.replace(str(i), "<id>")
    return {"errors": text_}


def _refused_like_an_unknown_id(world, client, post_url, data, field, target, model, inline=None):
    """POST ``data`` with ``field`` set to B's row of ``target``, then to a random id:
    both are refused with the same answer and create nothing."""
    answers = []
    for value in (world.b_pk(target), random_id()):
        before = counts()
        response = client.post(post_url, _with_extra(model, post_url, {**data, field: [value]}))
        assert response.status_code == 200, f"{field}={value} was accepted ({response.status_code})"
        errors = _form_errors(response, value)
        assert f"'{field.rsplit('-', 1)[-1]}'" in errors["errors"], f"no error on {field}: {errors}"
        assert not find_leaks(world, text(response), ignore=[value]), field
        assert counts() == before, f"{field}={value} created rows"
        answers.append(errors)
    assert answers[0] == answers[1], f"{field}: B's id is not answered like an unknown id"


@pytest.mark.parametrize(("model", "role"), CASES)
def test_posts_carrying_b_ids_change_nothing(world, model, role, b_untouched):
    model_admin = SITE._registry[model]
    user = world.members[role]
    request = request_for(user)
    client = client_for(world, role)
    obj = _object_for_forms(world, model)
    change_url, add_url = url(model, "change", obj.pk), url(model, "add")
    can_change = model_admin.has_change_permission(request, obj)
    can_add = model_admin.has_add_permission(request)
    relations = {
        f.name: f.related_model for f in forward_relations(model) if f.related_model in world.b_objs
    }
    b_relations = {name: [world.b_pk(t)] for name, t in relations.items()}

    page = client.get(change_url)
    if page.status_code != 200:
        assert page.status_code == 403
        before = counts()
        assert client.post(change_url, b_relations).status_code == 403
        assert client.post(add_url, b_relations).status_code == 403
        assert counts() == before
        return
    data, _ = form_data(text(page), f"{model._meta.model_name}_form")
    editable = [name for name in relations if name in data]

    # --- change ---------------------------------------------------------------------------
    if not can_change:
        before = counts()
        assert client.post(change_url, {**data, **b_relations}).status_code == 403
        assert counts() == before
    else:
        for name in editable:
            _refused_like_an_unknown_id(
                world, client, change_url, data, name, relations[name], model
            )
        if editable:
            response = client.post(change_url, {**data, **b_relations})
            assert response.status_code == 200, "a change carrying all of B's ids was accepted"
        stored = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
        obj.refresh_from_db()
        for f in model._meta.concrete_fields:
            if f.is_relation:
                assert getattr(obj, f.attname) == stored[f.attname], f.name
        # The unchanged form, plus B's ids in fields the form does not have, is accepted.
        response = client.post(change_url, {**b_relations, **data})
        assert response.status_code == 302, _form_errors(response)
        obj.refresh_from_db()
        for f in model._meta.concrete_fields:
            if f.is_relation:
                assert getattr(obj, f.attname) == stored[f.attname], f.name

    # --- add ------------------------------------------------------------------------------
    if not can_add:
        before = counts()
        assert client.get(add_url).status_code == 403
        assert client.post(add_url, {**data, **b_relations}).status_code == 403
        assert counts() == before
        return
    add_page = client.get(add_url)
    assert add_page.status_code == 200
    add_page_data, _ = form_data(text(add_page), f"{model._meta.model_name}_form")
    add_data = _add_data(data, add_page_data, model)
    if model is not Company:
        obj.delete()  # the add POST copies its values: no unique constraint may object
    editable = [name for name in relations if name in add_data]
    for name in editable:
        _refused_like_an_unknown_id(world, client, add_url, add_data, name, relations[name], model)
    before = counts()
    response = client.post(add_url, _with_extra(model, add_url, add_data))
    assert response.status_code == 302, _form_errors(response)
    assert counts()[label(model)] == before[label(model)] + 1


def _inline_cases():
    cases = []
    for model, model_admin in registry():
        if model not in TENANT_MODELS:
            continue
        for inline_class in model_admin.inlines:
            declared = inline_class.fields
            for f in forward_relations(inline_class.model):
                if f.related_model is model or (declared and f.name not in declared):
                    continue
                for role in ROLES:
                    cases.append(
                        pytest.param(
                            model,
                            inline_class.model,
                            f.name,
                            role,
                            id=f"{label(model)}.{label(inline_class.model)}.{f.name}-{role}",
                        )
                    )
    return cases


@pytest.mark.parametrize(("model", "inline_model", "field_name", "role"), _inline_cases())
def test_inline_rows_carrying_b_ids_change_nothing(
    world, model, inline_model, field_name, role, b_untouched
):
    model_admin = SITE._registry[model]
    client = client_for(world, role)
    parent = _object_for_forms(world, model)
    change_url = url(model, "change", parent.pk)
    target = inline_model._meta.get_field(field_name).related_model
    page = client.get(change_url)
    if page.status_code != 200 or not model_admin.has_change_permission(
        request_for(world.members[role]), parent
    ):
        before = counts()
        response = client.post(change_url, {})
        assert response.status_code == 403
        assert counts() == before
        return
    data, templates = form_data(text(page), f"{model._meta.model_name}_form")
    suffix = f"-__prefix__-{field_name}"
    template_keys = [k for k in templates if k.endswith(suffix)]
    assert template_keys, f"the change form of {label(model)} has no row template with {field_name}"
    prefix = template_keys[0].removesuffix(suffix)
    n = int(data[f"{prefix}-TOTAL_FORMS"][0])
    row = {
        k.replace("__prefix__", str(n)): v
        for k, v in templates.items()
        if k.startswith(f"{prefix}-__prefix__-")
    }
    post = {**data, **row, f"{prefix}-TOTAL_FORMS": [str(n + 1)]}
    field = f"{prefix}-{n}-{field_name}"
    _refused_like_an_unknown_id(world, client, change_url, post, field, target, model)
    # The same row with a row of A is accepted (the harness works).
    a_target = build(target, world.a) if target is not Company else world.a
    before = counts()[label(inline_model)]
    response = client.post(change_url, {**post, field: [str(a_target.pk)]})
    assert response.status_code == 302, _form_errors(response)
    assert counts()[label(inline_model)] == before + 1


# --- company and creator come from the request --------------------------------------------


def _server_set_cases():
    return [
        pytest.param(model, role, id=f"{label(model)}-{role}")
        for model, model_admin in registry()
        if model in TENANT_MODELS and _server_set_fields(model_admin)
        for role in ROLES
    ]


@pytest.mark.parametrize(("model", "role"), _server_set_cases())
def test_company_and_creator_are_taken_from_the_request(world, model, role, b_untouched):
    model_admin = SITE._registry[model]
    user = world.members[role]
    client = client_for(world, role)
    forged = {"company": [str(world.b.pk)]}
    creator = getattr(model_admin, "creator_field", None)
    if creator:
        forged[creator] = [world.b_pk(User)]
    if not model_admin.has_add_permission(request_for(user)):
        before = counts()
        assert client.post(url(model, "add"), forged).status_code == 403
        assert counts() == before
        return
    template = build(model, world.a)
    page = client.get(url(model, "change", template.pk))
    data, _ = form_data(text(page), f"{model._meta.model_name}_form")
    add_page_data, _ = form_data(
        text(client.get(url(model, "add"))), f"{model._meta.model_name}_form"
    )
    data = _add_data(data, add_page_data, model)
    template.delete()
    existing = set(model._default_manager.values_list("pk", flat=True))
    response = client.post(
        url(model, "add"), _with_extra(model, url(model, "add"), {**data, **forged})
    )
    assert response.status_code == 302, _form_errors(response)
    (created,) = model._default_manager.exclude(pk__in=existing)
    if any(f.name == "company" for f in model._meta.concrete_fields):
        assert created.company_id == world.a.pk
    if creator:
        assert getattr(created, f"{creator}_id") == user.pk


# --- the shared mechanism, for admins that do not exist yet ------------------------------


def _probe_admin(model, **options):
    """The registered admin of ``model`` with other options, on a site of its own."""
    from django.contrib import admin

    model_admin = SITE._registry[model]
    if "list_filter" in options:  # even where the admin computes its own
        options["get_list_filter"] = lambda self, request: self.list_filter
    probe = type(f"Probe{type(model_admin).__name__}", (type(model_admin),), options)
    return probe(model, admin.AdminSite(name="probe"))


def _relation_filter_paths(model) -> list[str]:
    """Every reverse relation of ``model`` and every text column reached through one of
    its foreign keys (``project__project_type``, ``company__name``…)."""
    paths = []
    for rel in model._meta.get_fields():
        if (
            rel.is_relation
            and rel.auto_created
            and not rel.concrete
            and is_tenant_model(rel.related_model)
        ):
            paths.append(rel.name)
    for f in model._meta.concrete_fields:
        if f.is_relation and is_tenant_model(f.related_model):
            paths += [
                f"{f.name}__{t.name}"
                for t in f.related_model._meta.concrete_fields
                if isinstance(t, models.CharField | models.TextField)
                and not t.choices
                and t.name != "password"
            ]
    return paths


@pytest.mark.parametrize(
    "model", [pytest.param(m, id=label(m)) for m in TENANT_MODELS if _relation_filter_paths(m)]
)
@pytest.mark.parametrize("role", ROLES)
def test_any_list_filter_through_relations_offers_nothing_of_b(world, model, role):
    """A list_filter on a reverse relation or on a column of a related table (which
    Django reads from the whole related table) only offers A's rows."""
    probe = _probe_admin(model, list_filter=tuple(_relation_filter_paths(model)))
    cl = probe.get_changelist_instance(request_for(world.members[role]))
    assert cl.filter_specs
    for spec in cl.filter_specs:
        choices = list(getattr(spec, "lookup_choices", []) or [])
        assert not find_leaks(world, repr(choices)), f"list_filter {spec.field_path!r}"
        assert choices, f"list_filter {spec.field_path!r} offers A's rows"


def _tenant_relations(model, kind):
    return [
        f
        for f in forward_relations(model)
        if getattr(f, kind) and f.related_model in TENANT_MODELS and f.related_model in FACTORIES
    ]


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(m, id=label(m))
        for m in TENANT_MODELS
        if _tenant_relations(m, "many_to_one") or _tenant_relations(m, "many_to_many")
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_relation_fields_offer_and_accept_only_a_rows(world, model, role):
    """Every foreign key and many-to-many of every admin, as a select and as a raw-id
    input: B's rows are neither offered, nor labelled, nor accepted."""
    request = request_for(world.members[role])
    fks = _tenant_relations(model, "many_to_one")
    probe = _probe_admin(model, raw_id_fields=tuple(f.name for f in fks))
    for model_admin in (SITE._registry[model], probe):
        for f in fks:
            formfield = model_admin.formfield_for_foreignkey(f, request)
            b_pk, a_pk = world.b_pk(f.related_model), world.a_objs[f.related_model].pk
            assert not formfield.queryset.filter(pk=b_pk).exists(), f.name
            assert formfield.queryset.filter(pk=a_pk).exists(), f.name
            with pytest.raises(ValidationError):
                formfield.clean(b_pk)
            if isinstance(formfield.widget, ScopedRawIdWidget):
                assert formfield.widget.label_and_url_for_value(b_pk) == ("", "")
                assert formfield.widget.label_and_url_for_value(a_pk)[0]
                assert not find_leaks(world, formfield.widget.render(f.name, b_pk), [b_pk])
            else:
                assert model_admin is not probe, f"{f.name} is not a raw-id field of the probe"
        for f in _tenant_relations(model, "many_to_many"):
            formfield = model_admin.formfield_for_manytomany(f, request)
            if formfield is None:  # a custom through model: edited as an inline
                continue
            assert not formfield.queryset.filter(pk=world.b_pk(f.related_model)).exists()
