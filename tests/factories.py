"""factory_boy factories for every model of the tenants, library, projects, rag and audit apps.

Tenancy: every factory whose model belongs to a company derives the users and parent rows
it creates from that company (``factory.SelfAttribute``), so ``ContentBlockFactory()``
makes one company, one user of that company and a block of that company. To build
several rows of one tenant, pass ``company=`` (or ``project=`` / ``memoire=`` / ``block=``)
and let the factory derive the rest; passing a user or a block of another company builds
cross-tenant data, which is only what you want when testing that it is refused.

Users get ``DEFAULT_PASSWORD`` (or ``UserFactory(password="...")``), hashed with the
configured hasher; the hash is computed once per (password, hashers) and reused, so a
test creating many users does not pay PBKDF2 for each.
"""

from __future__ import annotations

import copy
import functools
import random
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from factory.django import DjangoModelFactory

from audit.models import AuditLog
from jobs.models import Job, JobKind, JobStatus
from library.models import (
    BlockFile,
    BlockType,
    ContentBlock,
    ContentBlockVersion,
    FileRelationship,
    PastProject,
    SectionTemplate,
    StoredFile,
)
from projects.models import (
    ContentMatch,
    DocumentKind,
    GenerationRequest,
    GenerationStatus,
    MemoirExport,
    Project,
    ProjectDocument,
    ProjectStatus,
    RCAnalysis,
    Section,
    SectionVersion,
)
from rag.models import EMBEDDING_DIMENSIONS, ChunkLexeme, DocumentChunk, Memoire
from tenants.models import Company, Role, User

#: The apps holding the product's models (benchmarks has none).
PROJECT_APPS = ("tenants", "library", "projects", "rag", "audit", "jobs")

__all__ = [
    "ALL_FACTORIES",
    "DEFAULT_PASSWORD",
    "PROJECT_APPS",
    "AuditLogFactory",
    "BlockFileFactory",
    "CompanyFactory",
    "ContentBlockFactory",
    "ContentBlockVersionFactory",
    "ContentMatchFactory",
    "DocumentChunkFactory",
    "GenerationRequestFactory",
    "JobFactory",
    "MemoirExportFactory",
    "MemoireFactory",
    "PastProjectFactory",
    "ProjectDocumentFactory",
    "ProjectFactory",
    "RCAnalysisFactory",
    "SectionFactory",
    "SectionTemplateFactory",
    "SectionVersionFactory",
    "StoredFileFactory",
    "SuperuserFactory",
    "UserFactory",
    "hash_password",
    "random_embedding",
]

#: Password of every user the factories create, unless one is given.
DEFAULT_PASSWORD = "Chantier-Test-2026!"

FAKER_LOCALE = "fr_FR"


def _faker(provider: str, **kwargs) -> factory.Faker:
    return factory.Faker(provider, locale=FAKER_LOCALE, **kwargs)


@functools.cache
def _cached_hash(raw_password: str, hashers: tuple[str, ...]) -> str:
    # ``hashers`` is only part of the cache key: a test that overrides PASSWORD_HASHERS
    # gets a hash its hashers can verify.
    return make_password(raw_password)


def hash_password(raw_password: str | None) -> str:
    """``make_password`` memoised per password and hasher setting (None: unusable)."""
    if raw_password is None:
        return make_password(None)
    return _cached_hash(raw_password, tuple(settings.PASSWORD_HASHERS))


def random_embedding(seed: int | str | None = None) -> list[float]:
    """A unit vector of ``EMBEDDING_DIMENSIONS`` floats, reproducible for a given seed."""
    rng = random.Random(seed)
    vector = [rng.gauss(0.0, 1.0) for _ in range(EMBEDDING_DIMENSIONS)]
    norm = sum(x * x for x in vector) ** 0.5
    return [x / norm for x in vector]


def _ids(rows: Sequence) -> list[uuid.UUID]:
    return [row.pk for row in rows]


# --- tenants ---------------------------------------------------------------------------


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Entreprise de BTP n° {n}")
    address = _faker("street_address")
    city = _faker("city")
    postal_code = _faker("postcode")
    phone = _faker("phone_number")
    email = factory.Sequence(lambda n: f"contact{n}@entreprise{n}.example")
    certifications = factory.LazyFunction(lambda: ["ISO 9001:2015", "MASE"])
    settings = factory.LazyFunction(dict)


class UserFactory(DjangoModelFactory):
    """A company member with the *user* role (traits ``admin`` and ``viewer``)."""

    class Meta:
        model = User

    company = factory.SubFactory(CompanyFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = _faker("name")
    role = Role.USER
    is_active = True
    is_staff = True
    is_superuser = False
    password = factory.Transformer(DEFAULT_PASSWORD, transform=hash_password)

    class Params:
        admin = factory.Trait(role=Role.ADMIN)
        viewer = factory.Trait(role=Role.VIEWER)


class SuperuserFactory(UserFactory):
    """A platform superuser: no company (allowed by ``users_company_required``)."""

    company = None
    email = factory.Sequence(lambda n: f"superuser{n}@example.com")
    role = Role.ADMIN
    is_superuser = True


# --- library ---------------------------------------------------------------------------


#: Metadata that passes library.metadata's checks, per block type (library.facts).
VALID_METADATA = {
    BlockType.COMPANY_PROFILE: {"siret": "82461357400014", "headcount": 85},
    BlockType.PERSON_CV: {
        "name": "Marc Dubois",
        "role": "Conducteur de travaux",
        "years_experience": 18,
        "diplomas": ["BTS Bâtiment"],
        "qualifications": [
            {
                "kind": "sst",
                "obtained_on": "2025-03-10",
                "expires_on": "2030-03-10",
                "mandatory": True,
            }
        ],
    },
    BlockType.EQUIPMENT: {
        "designation": "Grue à tour Potain MDT 219",
        "category": "lifting",
        "make": "Potain",
        "model": "MDT 219",
        "quantity": 2,
        "ownership": "owned",
        "inspections": [{"kind": "periodic", "next_on": "2030-06-30", "mandatory": True}],
    },
    BlockType.PROCEDURE: {"reference": "PR-QSE-07", "revision": "D"},
    BlockType.CERTIFICATION: {
        "scheme": "qualibat",
        "number": "QB-1",
        "body": "Qualibat",
        "valid_until": "2030-01-01",
    },
    BlockType.METHODOLOGY_TEMPLATE: {
        "placeholders": ["nom_projet"],
        "phases": [{"name": "Préparation", "duration_weeks": 4}],
    },
    BlockType.PAST_PROJECT_REFERENCE: {
        "client": "Ville de Lyon",
        "year": 2023,
        "amount": 4200000,
        "lot": "Lot 02 — Gros œuvre",
    },
}


class ContentBlockFactory(DjangoModelFactory):
    class Meta:
        model = ContentBlock

    company = factory.SubFactory(CompanyFactory)
    type = factory.Iterator(BlockType.values)
    title = factory.Sequence(lambda n: f"Bloc de contenu n° {n}")
    content = _faker("paragraph", nb_sentences=5)
    metadata = factory.LazyAttribute(lambda o: copy.deepcopy(VALID_METADATA.get(o.type, {})))
    tags = factory.LazyFunction(lambda: ["gros œuvre"])
    is_active = True
    created_by = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..company"))


class ContentBlockVersionFactory(DjangoModelFactory):
    """Version 1 of a block, replaced by its author (the block itself is at 2)."""

    class Meta:
        model = ContentBlockVersion

    block = factory.SubFactory(ContentBlockFactory, version=2)
    version = 1
    type = factory.SelfAttribute("block.type")
    title = factory.LazyAttribute(lambda o: f"{o.block.title} (ancienne version)")
    content = _faker("paragraph", nb_sentences=3)
    metadata = factory.SelfAttribute("block.metadata")
    tags = factory.SelfAttribute("block.tags")
    is_active = True
    replaced_by = factory.SelfAttribute("block.created_by")
    changes = factory.LazyFunction(lambda: {"content": {"old": "…", "new": "…"}})


class StoredFileFactory(DjangoModelFactory):
    class Meta:
        model = StoredFile

    company = factory.SubFactory(CompanyFactory)
    filename = factory.Sequence(lambda n: f"document-{n}.pdf")
    file_type = "application/pdf"
    storage_url = factory.LazyAttribute(lambda o: f"companies/{o.company.pk}/files/{o.filename}")
    size_bytes = _faker("random_int", min=1_000, max=5_000_000)
    uploaded_by = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..company"))
    metadata = factory.LazyFunction(dict)


class BlockFileFactory(DjangoModelFactory):
    """A file of the block's company, uploaded by the block's author, attached to it."""

    class Meta:
        model = BlockFile

    block = factory.SubFactory(ContentBlockFactory)
    file = factory.SubFactory(
        StoredFileFactory,
        company=factory.SelfAttribute("..block.company"),
        uploaded_by=factory.SelfAttribute("..block.created_by"),
    )
    relationship = FileRelationship.MAIN_FILE


class PastProjectFactory(DjangoModelFactory):
    class Meta:
        model = PastProject

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Opération de référence n° {n}")
    client = factory.LazyAttribute(lambda o: f"Ville de {o.city}")
    year = _faker("random_int", min=2015, max=2025)
    project_type = "Construction neuve"
    description = _faker("paragraph", nb_sentences=4)
    techniques_used = factory.LazyFunction(lambda: ["Voiles banchés", "Planchers en prédalles"])
    success_factors = factory.LazyFunction(lambda: ["Livrée dans les délais"])
    photos = factory.LazyFunction(list)
    is_referenceable = True
    metadata = factory.LazyFunction(dict)

    class Params:
        city = _faker("city")


class SectionTemplateFactory(DjangoModelFactory):
    class Meta:
        model = SectionTemplate

    company = factory.SubFactory(CompanyFactory)
    section_type = "methodologie"
    title = factory.Sequence(lambda n: f"Modèle de section n° {n}")
    template_content = "Pour l'opération {nom_projet}, les travaux sont conduits par {conducteur}."
    placeholders = factory.LazyFunction(
        lambda: {
            "nom_projet": "Nom de l'opération",
            "conducteur": "Conducteur de travaux affecté",
        }
    )


# --- projects --------------------------------------------------------------------------


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    company = factory.SubFactory(CompanyFactory)
    created_by = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..company"))
    name = factory.Sequence(lambda n: f"Construction d'un équipement public n° {n}")
    status = ProjectStatus.DRAFT
    client = factory.LazyAttribute(lambda o: f"Ville de {o.city}")
    location = factory.SelfAttribute("city")
    lot = "Lot 02 — Gros œuvre"
    project_type = "Construction neuve"
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    metadata = factory.LazyFunction(dict)

    class Params:
        city = _faker("city")


class SectionFactory(DjangoModelFactory):
    """A section of a memoir; ``blocks=[...]`` fills ``source_blocks`` with their ids.

    Traits: ``generated`` (written by the AI) and ``with_review`` (reviewed by a user of
    the project's company).
    """

    class Meta:
        model = Section

    project = factory.SubFactory(ProjectFactory)
    section_type = "methodologie"
    title = factory.Sequence(lambda n: f"Section n° {n}")
    content = _faker("paragraph", nb_sentences=6)
    order_num = factory.Sequence(lambda n: n + 1)
    generated_by_ai = False
    source_blocks = factory.LazyAttribute(lambda o: _ids(o.blocks))

    class Params:
        blocks = ()
        generated = factory.Trait(generated_by_ai=True, quality_score=0.8)
        with_review = factory.Trait(
            reviewed=True,
            reviewer=factory.SubFactory(
                UserFactory, company=factory.SelfAttribute("..project.company")
            ),
            reviewed_at=factory.LazyFunction(timezone.now),
        )


class ProjectDocumentFactory(DjangoModelFactory):
    """The RC of a project, uploaded by a member of its company (the file itself is not
    written: tests that read it store one)."""

    class Meta:
        model = ProjectDocument

    project = factory.SubFactory(ProjectFactory)
    kind = DocumentKind.RC
    filename = factory.Sequence(lambda n: f"reglement-consultation-{n}.pdf")
    storage_path = factory.LazyAttribute(
        lambda o: (
            f"companies/{o.project.company_id}/projects/{o.project.pk}/documents/{o.sha256[:16]}/{o.filename}"
        )
    )
    content_type = "application/pdf"
    size_bytes = 48_213
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    uploaded_by = factory.SubFactory(
        UserFactory, company=factory.SelfAttribute("..project.company")
    )


def _fact(value, page=1, excerpt=None) -> dict:
    return {
        "value": value,
        "source": {"page": page, "start": 0, "end": 10, "excerpt": excerpt or str(value)},
        "note": "",
        "corrected": False,
        "flag": "",
    }


def _criterion(ident, name, weight, share, kind, subcriteria=()) -> dict:
    return {
        "id": ident,
        "name": name,
        "level": "criterion" if "." not in ident else "subcriterion",
        "kind": kind,
        "weight": weight,
        "unit": "%",
        "written": f"{weight} %",
        "share": share,
        "rank": None,
        "source": {"page": 4, "start": 0, "end": 20, "excerpt": f"{name} : {weight} %"},
        "corrected": False,
        "flag": "",
        "subcriteria": list(subcriteria),
        "elements": [],
    }


class RCAnalysisFactory(DjangoModelFactory):
    """An analysis in the stored shape (docs/rc_analysis.md): valeur technique 60 %
    (méthodologie 40 %, moyens 20 %), prix 40 %, two required contents."""

    class Meta:
        model = RCAnalysis

    project = factory.SubFactory(ProjectFactory, status=ProjectStatus.RC_ANALYZED)
    rc_file_url = factory.LazyAttribute(
        lambda o: f"companies/{o.project.company_id}/projects/{o.project.pk}/rc.pdf"
    )
    project_info = factory.LazyAttribute(
        lambda o: {
            "version": 1,
            "buyer": _fact(o.project.client),
            "subject": _fact(o.project.name),
            "lot": _fact(o.project.lot),
            "location": _fact(o.project.location),
            "deadline": _fact("2026-03-06T12:00:00+01:00"),
            "lots": [],
            "selected_lot": None,
            "backend": "parser",
            "document": {},
            "pages": 6,
            "warnings": [],
            "notes": [],
            "contents_flag": "",
            "contents_corrected": False,
            "proposals": {},
        }
    )
    required_sections = factory.LazyFunction(
        lambda: [
            {
                "id": "R1",
                "text": "la méthodologie d'exécution",
                "criterion": "C1.1",
                "source": None,
                "corrected": False,
            },
            {
                "id": "R2",
                "text": "les moyens humains et matériels",
                "criterion": "C1.2",
                "source": None,
                "corrected": False,
            },
        ]
    )
    special_requirements = factory.LazyFunction(
        lambda: [
            {"id": "S1", "kind": "site_visit", **_fact("optional")},
            {"id": "S2", "kind": "variants_allowed", **_fact(False)},
        ]
    )
    format = factory.LazyFunction(lambda: {"page_limit": _fact(20), "constraints": ["A4"]})
    scoring_criteria = factory.LazyFunction(
        lambda: {
            "version": 1,
            "criteria": [
                _criterion(
                    "C1",
                    "Valeur technique",
                    60,
                    0.6,
                    "technical",
                    [
                        _criterion("C1.1", "Méthodologie", 40, 0.4, "technical"),
                        _criterion("C1.2", "Moyens humains et matériels", 20, 0.2, "technical"),
                    ],
                ),
                _criterion("C2", "Prix", 40, 0.4, "price"),
            ],
            "procedure": [],
            "by_lot": {},
            "lot": None,
            "deferred": False,
            "ranked": False,
            "corrected": False,
            "alternative": [],
        }
    )
    confidence_score = 0.9


class ContentMatchFactory(DjangoModelFactory):
    """A requirement matched to content; ``blocks=[...]`` fills ``matched_blocks``."""

    class Meta:
        model = ContentMatch

    project = factory.SubFactory(ProjectFactory, status=ProjectStatus.MATCHED)
    requirement_id = factory.Sequence(lambda n: f"RS-{n:02d}")
    matched_blocks = factory.LazyAttribute(lambda o: _ids(o.blocks))
    confidence = 0.8
    match_reason = _faker("sentence")

    class Params:
        blocks = ()


class GenerationRequestFactory(DjangoModelFactory):
    """A pending generation (traits ``completed`` and ``failed``)."""

    class Meta:
        model = GenerationRequest

    project = factory.SubFactory(ProjectFactory, status=ProjectStatus.GENERATING)
    section_type = "methodologie"
    status = GenerationStatus.PENDING
    request_context = factory.LazyFunction(lambda: {"requirement_id": "RS-01"})

    class Params:
        completed = factory.Trait(
            status=GenerationStatus.COMPLETED,
            generated_content=_faker("paragraph", nb_sentences=8),
            quality_score=0.8,
            model_used="gpt-4o-2024-08-06",
            tokens_used=5_000,
            cost_usd=Decimal("0.025000"),
            latency_seconds=12.5,
            completed_at=factory.LazyFunction(timezone.now),
        )
        failed = factory.Trait(
            status=GenerationStatus.FAILED,
            model_used="gpt-4o-2024-08-06",
            error_message="Délai de réponse du modèle dépassé.",
            completed_at=factory.LazyFunction(timezone.now),
        )


class SectionVersionFactory(DjangoModelFactory):
    """An earlier text of a section, replaced by an edit."""

    class Meta:
        model = SectionVersion

    section = factory.SubFactory(SectionFactory)
    version = factory.Sequence(lambda n: n + 1)
    title = factory.SelfAttribute("section.title")
    content = _faker("paragraph", nb_sentences=4)
    source_versions = factory.LazyFunction(dict)
    reason = "edit"


class MemoirExportFactory(DjangoModelFactory):
    """A Word export of a memoir (the file itself is not written: tests that read it
    export for real)."""

    class Meta:
        model = MemoirExport

    project = factory.SubFactory(ProjectFactory, status=ProjectStatus.GENERATED)
    filename = factory.Sequence(lambda n: f"memoire-{n}.docx")
    storage_path = factory.LazyAttribute(
        lambda o: f"companies/{o.project.company_id}/projects/{o.project.pk}/exports/{o.filename}"
    )
    size_bytes = 38_000
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    sections = 5
    page_estimate = 12
    page_limit = 20
    warnings = factory.LazyFunction(list)


# --- rag -------------------------------------------------------------------------------


class MemoireFactory(DjangoModelFactory):
    class Meta:
        model = Memoire

    company = factory.SubFactory(CompanyFactory)
    filename = factory.Sequence(lambda n: f"memoire-technique-{n}.pdf")
    storage_path = factory.LazyAttribute(
        lambda o: f"companies/{o.company.pk}/memoires/{o.filename}"
    )
    client = factory.LazyAttribute(lambda o: f"Ville de {o.city}")
    year = _faker("random_int", min=2015, max=2025)
    indexed = False
    uploaded_by = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..company"))
    project_type = "Construction neuve"
    techniques_used = factory.LazyFunction(lambda: ["Béton armé coulé en place"])
    metadata = factory.LazyFunction(dict)

    class Params:
        city = _faker("city")


class DocumentChunkFactory(DjangoModelFactory):
    """A passage of a memoir, without embedding unless the ``embedded`` trait is on."""

    class Meta:
        model = DocumentChunk

    memoire = factory.SubFactory(MemoireFactory, indexed=True)
    content = _faker("paragraph", nb_sentences=4)
    embedding = None
    metadata = factory.Sequence(lambda n: {"page": n + 1})

    class Params:
        embedded = factory.Trait(embedding=factory.Sequence(random_embedding))


class ChunkLexemeFactory(DjangoModelFactory):
    """A lexeme count of a company's chunks (kept by indexing; made here for tests)."""

    class Meta:
        model = ChunkLexeme

    company = factory.SubFactory(CompanyFactory)
    lexeme = factory.Sequence(lambda n: f"mot{n}")
    chunks = 1


# --- jobs ------------------------------------------------------------------------------


class JobFactory(DjangoModelFactory):
    """A queued indexing job (of a memoir id that need not exist: ``target_id`` is a
    plain uuid, as jobs outlive their objects)."""

    class Meta:
        model = Job

    company = factory.SubFactory(CompanyFactory)
    kind = JobKind.MEMOIR_INDEXING
    target_type = "rag.memoire"
    target_id = factory.LazyFunction(uuid.uuid4)
    target_label = factory.Sequence(lambda n: f"memoire-technique-{n}.pdf")
    status = JobStatus.QUEUED


# --- audit -----------------------------------------------------------------------------


class AuditLogFactory(DjangoModelFactory):
    """An entry by ``user`` (a new user by default; ``user=None`` for a system action).

    ``user_id`` and ``company_id`` are plain columns, derived from ``user``.
    """

    class Meta:
        model = AuditLog

    action = "project.create"
    user_id = factory.LazyAttribute(lambda o: o.user.pk if o.user else None)
    company_id = factory.LazyAttribute(lambda o: o.user.company_id if o.user else None)
    resource_type = "project"
    resource_id = factory.LazyFunction(uuid.uuid4)
    details = factory.LazyFunction(dict)
    ip_address = "192.0.2.10"
    user_agent = "Mozilla/5.0 (X11; Linux x86_64) pytest"

    class Params:
        user = factory.SubFactory(UserFactory)


#: Every factory above, for tests that run over all of them.
ALL_FACTORIES: tuple[type[DjangoModelFactory], ...] = (
    CompanyFactory,
    UserFactory,
    SuperuserFactory,
    ContentBlockFactory,
    ContentBlockVersionFactory,
    StoredFileFactory,
    BlockFileFactory,
    PastProjectFactory,
    SectionTemplateFactory,
    ProjectFactory,
    SectionFactory,
    ProjectDocumentFactory,
    RCAnalysisFactory,
    ContentMatchFactory,
    GenerationRequestFactory,
    SectionVersionFactory,
    MemoirExportFactory,
    MemoireFactory,
    DocumentChunkFactory,
    ChunkLexemeFactory,
    JobFactory,
    AuditLogFactory,
)
