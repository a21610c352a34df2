"""Instances loaded from the database without Model.__init__ (config.db.loading)."""

from __future__ import annotations

from unittest import mock

import numpy
import pytest
from django.apps import apps
from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_init, pre_init
from django.test.utils import isolate_apps

from config.db.loading import DirectLoadModel, loads_directly
from projects.models import Project
from tests import factories

PROJECT_APPS = ("tenants", "library", "projects", "rag", "audit")


def project_models() -> list[type[models.Model]]:
    return [
        model
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        if not model._meta.auto_created
    ]


def test_every_model_of_the_project_loads_directly():
    # A model left on Django's path would quietly cost its pages ~4 µs a row.
    slow = [m.__name__ for m in project_models() if not issubclass(m, DirectLoadModel)]
    assert slow == []
    assert all(loads_directly(m) for m in project_models())


@isolate_apps("library")
def test_models_that_need_init_are_loaded_through_it():
    class WithFile(DirectLoadModel):
        document = models.FileField()

        class Meta:
            app_label = "library"

    class WithInit(DirectLoadModel):
        name = models.TextField()

        class Meta:
            app_label = "library"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seen = True

    class Tracked(DirectLoadModel):
        name = models.TextField()

        class Meta:
            app_label = "library"

        def __setattr__(self, name, value):
            self.__dict__.setdefault("assigned", []).append(name)
            super().__setattr__(name, value)

    class Plain(DirectLoadModel):
        owner = models.ForeignKey("self", models.CASCADE)
        name = models.TextField()

        class Meta:
            app_label = "library"

    document = WithFile.from_db("default", ["id", "document"], (1, "a.txt")).document
    assert isinstance(document, FieldFile)  # the descriptor wrapped the stored name
    assert document.name == "a.txt"
    assert WithInit.from_db("default", ["id", "name"], (1, "n")).seen
    assert Tracked.from_db("default", ["id", "name"], (1, "n")).assigned == ["_state", "id", "name"]

    plain = Plain.from_db("default", ["id", "owner_id", "name"], (1, 2, "n"))
    assert loads_directly(Plain)
    assert vars(plain) == {"_state": plain._state, "id": 1, "owner_id": 2, "name": "n"}
    with mock.patch.object(Plain, "__init__", _counting_init):
        Plain.from_db("default", ["id", "owner_id", "name"], (1, 2, "n"))
    assert _counting_init.calls == 1  # a class patched after its first load


def _counting_init(self, *args, **kwargs):
    _counting_init.calls += 1
    models.Model.__init__(self, *args, **kwargs)


_counting_init.calls = 0


def one_of_each() -> list[models.Model]:
    """One saved row of every model, each with its related rows."""
    section = factories.SectionFactory(with_review=True)
    match = factories.ContentMatchFactory()
    version = factories.ContentBlockVersionFactory()
    link = factories.BlockFileFactory()
    chunk = factories.DocumentChunkFactory(embedded=True)
    return [
        section,
        match,
        version,
        link,
        chunk,
        factories.RCAnalysisFactory(),
        factories.GenerationRequestFactory(),
        factories.PastProjectFactory(),
        factories.SectionTemplateFactory(),
        factories.AuditLogFactory(),
        factories.SuperuserFactory(),
    ]


def loaded_through_init(model: type[models.Model], pk) -> models.Model:
    """The row as Django's own from_db makes it: any init receiver forces that path."""

    def receiver(**kwargs):
        pass

    post_init.connect(receiver, sender=model)
    try:
        return model._default_manager.get(pk=pk)
    finally:
        post_init.disconnect(receiver, sender=model)


def attributes(instance: models.Model) -> dict:
    return {
        name: value.tolist() if isinstance(value, numpy.ndarray) else value
        for name, value in vars(instance).items()
        if name != "_state"
    }


@pytest.mark.django_db
def test_loaded_instances_equal_those_made_by_init():
    one_of_each()
    # Any init receiver sends every model through __init__, and this test would then
    # compare Django's path with itself.
    assert not pre_init.receivers and not post_init.receivers
    compared = set()
    for model in project_models():
        for pk in model._default_manager.values_list("pk", flat=True)[:2]:
            direct = model._default_manager.get(pk=pk)
            reference = loaded_through_init(model, pk)
            assert type(direct) is model
            assert attributes(direct) == attributes(reference), model.__name__
            assert (direct._state.adding, direct._state.db) == (False, "default")
            assert direct.get_deferred_fields() == set()
            compared.add(model)
    assert compared == set(project_models())


@pytest.mark.django_db
def test_init_signal_receivers_still_see_every_loaded_instance():
    project = factories.ProjectFactory()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Project)
    try:
        loaded = Project.objects.get(pk=project.pk)
    finally:
        post_init.disconnect(receiver, sender=Project)
    assert seen == [loaded]


@pytest.mark.django_db
def test_a_loaded_instance_saves_refreshes_and_follows_relations(django_assert_num_queries):
    project = factories.ProjectFactory(client="Ville de Lyon")
    loaded = Project.objects.get(pk=project.pk)
    loaded.client = "Métropole de Lyon"
    loaded.save()  # an UPDATE of the row, not an INSERT of a second one
    assert Project.objects.filter(company=project.company).count() == 1
    assert Project.objects.get(pk=project.pk).client == "Métropole de Lyon"

    with django_assert_num_queries(1):
        assert loaded.company.name == project.company.name
    with django_assert_num_queries(1):
        joined = Project.objects.select_related("company", "created_by").get(pk=project.pk)
    with django_assert_num_queries(0):
        assert joined.company == project.company
        assert joined.created_by == project.created_by

    Project.objects.filter(pk=project.pk).update(lot="Lot 03")
    loaded.refresh_from_db()
    assert loaded.lot == "Lot 03"
    assert loaded.client == "Métropole de Lyon"


@pytest.mark.django_db
def test_deferred_fields_load_on_first_use(django_assert_num_queries):
    project = factories.ProjectFactory(client="Ville de Lyon")
    with django_assert_num_queries(1):
        partial = Project.objects.only("name").get(pk=project.pk)
    deferred = {f.attname for f in Project._meta.concrete_fields} - {"id", "name"}
    assert partial.get_deferred_fields() == deferred
    assert partial.name == project.name
    with django_assert_num_queries(1):
        assert partial.client == "Ville de Lyon"
    assert partial.get_deferred_fields() == deferred - {"client"}
    partial.name = "Renommé"
    partial.save()  # only the loaded fields are written
    project.refresh_from_db()
    assert (project.name, project.client) == ("Renommé", "Ville de Lyon")
