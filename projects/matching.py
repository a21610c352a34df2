"""Matching: the library content and memoir passages proposed for every requirement of a
project's RC analysis.

The requirements are the criteria and sub-criteria of the tree that applies (the price
excepted), their elements of appreciation, and the memoir's required contents, each
under the id the analysis gave it (docs/rc_analysis.md). For each one the company's
active content blocks still valid on the day the project needs them
(``services.needed_on``) are scored on

* the block type the requirement calls for ("moyens humains" → CVs, "moyens
  matériels" → equipment, qualité/sécurité → certifications and procedures,
  "références" → past project references…): a requirement that calls for types only
  considers blocks of those types;
* the requirement's words found in the block (French stems, accents folded, a title
  word counting more than a body word), and the project's own words (subject, lot)
  as a tie-breaker between blocks of the right type;
* when blocks carry an embedding of the configured backend, the cosine similarity of
  the requirement and the block.

A requirement that calls for references also gets the company's referenceable past
projects (``past_projects``), scored like the reference blocks they compete with (their
name and type counting as a title; their client, lot, description, techniques and
success factors as the body; their embedding), unless a reference block proposed or
decided for it already stands for the same past project (its ``past_project_id``).

The best blocks and past projects, and the best passages of the company's past memoirs
(``rag.search.search_passages``), are written as ``content_matches`` rows, one per
block, past project or passage, with a confidence in 0–1 and a French reason. A new run
replaces the proposals nobody decided on; approved rows and rejected ones (so that a
block or a past project turned down is not proposed again) stay.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from library import parsing
from library.choices import BlockType
from library.models import ContentBlock, PastProject
from projects.models import ContentMatch, Project, RCAnalysis
from projects.rc import storage
from projects.services import needed_on

T = BlockType

#: Rows a person decided on: approved or rejected.
DECIDED = Q(approved=True) | Q(rejected=True)
#: Blocks (and past projects) proposed per requirement, at most.
BLOCKS_PER_REQUIREMENT = 5
#: Memoir passages proposed per requirement, at most.
PASSAGES_PER_REQUIREMENT = 2
#: Candidates read from the database per requirement before scoring.
CANDIDATES = 40
#: Under this confidence a block is not proposed.
BLOCK_FLOOR = 0.3
#: In a typed requirement, the part of the requirement's words (the rest of 0.65 goes
#: to the project's words).
TYPED_LEXICAL = 0.55
#: The same when the requirement only names its kind.
KIND_ONLY_LEXICAL = 0.15
#: A block is proposed only when its confidence is at least this share of the best
#: block's for the same requirement (the others are there to fill the list).
RELATIVE_FLOOR = 0.6
#: Nor when it is more than this below the best block's.
MARGIN = 1.0
#: Part of the semantic similarity in a block's confidence, when blocks are embedded.
SEMANTIC_WEIGHT = 0.35
#: Under this score a memoir passage is not proposed.
PASSAGE_FLOOR = 0.02

AMBIGUOUS_QUALIFICATION = r"\bqualification"

#: The words documents of a kind use, whichever words the requirement chose: a block
#: that has some of them is closer to what the kind asks for (a MASE certificate for
#: "mesures de sécurité", though it never says "mesures").
KIND_VOCABULARY = {
    "safety": "sécurité santé prévention risques protection PPSPS MASE accueil ISO 45001",
    "quality": "qualité assurance contrôle contrôles autocontrôle ISO 9001 non-conformité",
    "environment": "environnement environnemental déchets tri valorisation nuisances ISO 14001",
}
#: Weight of the kind's vocabulary in a block's confidence.
VOCABULARY_WEIGHT = 0.25
#: Words of the vocabulary a block needs to get all of that weight.
VOCABULARY_HITS = 3

#: What a requirement is about, read from its words (folded, lower case): the block
#: types it calls for. Several kinds may apply ("moyens humains et matériels").
KINDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "staff",
        (
            r"\bhumain",
            r"\bpersonnel",
            r"\bequipe",
            r"\bencadrement",
            r"\bcv\b",
            r"\bintervenant",
            r"\beffectif",
            r"\bcompetence",
            r"\bchef de chantier",
            r"\bconducteur de travaux",
            r"\bcompagnon",
        ),
        (T.PERSON_CV,),
    ),
    (
        "equipment",
        (r"\bmateriel", r"\bengin", r"\bequipement", r"\boutillage", r"\bparc\b", r"\bvehicule"),
        (T.EQUIPMENT,),
    ),
    (
        "safety",
        (r"\bsecurite", r"\bhygiene", r"\bsante\b", r"\bprevention", r"\bprotection"),
        (T.PROCEDURE, T.CERTIFICATION),
    ),
    (
        "quality",
        (
            r"\bqualite",
            r"\bcertifi",
            AMBIGUOUS_QUALIFICATION,
            r"\bqse\b",
            r"\bqualibat",
            r"\biso\b",
            r"\bmase\b",
            r"\bcontrole",
        ),
        (T.CERTIFICATION, T.PROCEDURE),
    ),
    (
        "environment",
        (
            r"\benvironnement",
            r"\bdechet",
            r"\bnuisance",
            r"\brecycl",
            r"\bvaloris",
            r"\btri\b",
        ),
        (T.PROCEDURE, T.CERTIFICATION, T.METHODOLOGY_TEMPLATE),
    ),
    (
        "references",
        (r"\breference", r"\bexperience", r"\brealisation", r"\bsimilaire", r"\bchantiers? passe"),
        (T.PAST_PROJECT_REFERENCE,),
    ),
    (
        "method",
        (
            r"\bmethod",
            r"\borganisation",
            r"\bplanning",
            r"\bphasage",
            r"\bderoulement",
            r"\bmode operatoire",
            r"\bexecution",
        ),
        (T.METHODOLOGY_TEMPLATE, T.PROCEDURE),
    ),
    (
        "company",
        (
            r"\bpresentation de l.entreprise",
            r"\bcapacite",
            r"\bchiffre d.affaires",
            r"\bmoyens? de l.entreprise",
        ),
        (T.COMPANY_PROFILE,),
    ),
)

#: Words that say nothing about what is asked: their stems are left out of the terms.
GENERIC_WORDS = (
    "valeur technique offre candidat candidats mémoire proposé proposés prévus mis mise "
    "œuvre oeuvre disposition dispositions moyens moyen critère critères sous note points "
    "apprécié appréciée jugé lot travaux chantier chantiers marché affectés affecté détail "
    "détaillé description présentation pour ainsi notamment dont commune entreprise "
    "ensemble général générale opération prestations"
)
#: A word that names a kind of requirement ("humains", "matériels", "certifications")
#: weighs this much in the lexical similarity: it chose the block type already.
KIND_WORD_WEIGHT = 0.6

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case, French accents folded, plain apostrophes (for the kind patterns)."""
    return parsing.fold(text).replace("’", "'")


@dataclass
class Requirement:
    id: str
    text: str
    level: str  # "criterion", "subcriterion", "element", "content"
    criterion: str | None = None  # the criterion id a required content serves
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    vocabulary: frozenset = frozenset()  # stems of KIND_VOCABULARY for its kinds


def requirement_kinds(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kinds a requirement's text calls for, and their block types in order."""
    folded = fold(text)
    found: dict[str, set] = {}
    for kind, patterns, _types in KINDS:
        hits = {p for p in patterns if re.search(p, folded)}
        if hits:
            found[kind] = hits
    # "la qualification de l'équipe" is about people, not certificates.
    if "staff" in found and found.get("quality") == {AMBIGUOUS_QUALIFICATION}:
        del found["quality"]
    kinds = [kind for kind, _p, _t in KINDS if kind in found]
    types: list[str] = []
    for kind, _patterns, kind_types in KINDS:
        if kind in found:
            types.extend(str(t) for t in kind_types if str(t) not in types)
    return tuple(kinds), tuple(types)


def requirements_of(row: RCAnalysis) -> list[Requirement]:
    """Every requirement of a stored analysis, criteria first (in the RC's order), then
    the required contents. The price and what is under it are left out."""
    analysis = storage.from_row(row)
    found: list[Requirement] = []
    for criterion in analysis.criteria:
        if criterion.kind == "price":
            continue
        for node in criterion.walk():
            if not node.id or not (node.name or "").strip():
                continue
            found.append(Requirement(node.id, node.name.strip(), node.level))
    for content in analysis.required_contents:
        if content.id and content.text.strip():
            found.append(
                Requirement(content.id, content.text.strip(), "content", content.criterion)
            )
    for requirement in found:
        requirement.kinds, requirement.types = requirement_kinds(requirement.text)
    return found


# --- words ---------------------------------------------------------------------------------


def _stems_of_words(words: list[str]) -> dict[str, list[str]]:
    """The French stems (accents folded) of each word, as the block documents hold
    them: one query for all."""
    unique = sorted({w for w in words if w})
    if not unique:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w, tsvector_to_array(enpyco_fts(w)) FROM unnest(%s::text[]) AS t(w)",
            [unique],
        )
        return {word: list(stems or []) for word, stems in cursor.fetchall()}


@dataclass
class Terms:
    """The stems of a text that matter, and a readable word for each."""

    stems: list[str] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)  # stem → the word as written
    weights: dict[str, float] = field(default_factory=dict)  # stem → weight when not 1

    def weight(self, stems) -> float:
        return sum(self.weights.get(s, 1.0) for s in stems)


def is_kind_word(word: str) -> bool:
    """Whether ``word`` names a kind of requirement (see KINDS)."""
    folded = fold(word)
    return any(re.match(p.replace(r"\b", "", 1), folded) for _k, ps, _t in KINDS for p in ps)


def terms_of(texts: list[str]) -> list[Terms]:
    """``Terms`` of each text (one query for all)."""
    tokenised = [_WORD.findall(text or "") for text in texts]
    generic_words = _WORD.findall(GENERIC_WORDS)
    stems = _stems_of_words([w.lower() for words in [*tokenised, generic_words] for w in words])
    generic = {stem for word in generic_words for stem in stems.get(word.lower(), [])}
    result = []
    for words in tokenised:
        terms = Terms()
        for word in words:
            for stem in stems.get(word.lower(), []):
                if stem in generic or len(stem) < 3 or stem in terms.words:
                    continue
                terms.stems.append(stem)
                terms.words[stem] = word.lower()
                if is_kind_word(word):
                    terms.weights[stem] = KIND_WORD_WEIGHT
        result.append(terms)
    return result


def _tsquery(stems) -> str:
    """An OR tsquery of stems, for ``to_tsquery('simple', …)``."""
    return " | ".join("'" + s.replace("'", "''").replace("\\", "") + "'" for s in stems)


# --- blocks ---------------------------------------------------------------------------------


@dataclass
class Proposal:
    requirement_id: str
    confidence: float
    reason: str
    block_id: object = None
    passage_id: object = None
    block_type: str = ""
    past_project_id: object = None


_CANDIDATES_SQL = """
SELECT b.id, b.type::text, b.title,
       tsvector_to_array(b.search_document),
       tsvector_to_array(enpyco_fts(b.title)),
       {similarity},
       b.metadata->>'past_project_id'
FROM content_blocks b
WHERE b.company_id = %(company)s
  AND b.is_active
  AND (b.valid_until IS NULL OR b.valid_until >= %(day)s)
  AND {scope}
ORDER BY {order}
LIMIT %(limit)s
"""


def _similarity_sql(alias: str, vector, params: dict) -> str:
    """The cosine similarity of the row ``alias`` and the requirement's vector (NULL
    when the row has no embedding of the same model)."""
    if vector is None:
        return "NULL::float"
    params["vector"] = "[" + ",".join(repr(float(x)) for x in vector[0]) + "]"
    params["model"] = vector[1]
    return (
        f"CASE WHEN {alias}.embedding_model = %(model)s AND {alias}.embedding_384 IS NOT NULL "
        f"THEN 1 - ({alias}.embedding_384 <=> %(vector)s::vector) END"
    )


def _candidates(company_id, day: datetime.date, terms: Terms, types, vector) -> list[tuple]:
    params: dict = {"company": company_id, "day": day, "limit": CANDIDATES}
    query = _tsquery(terms.stems)
    if query:
        params["query"] = query
        rank = "ts_rank(b.search_document, to_tsquery('simple', %(query)s))"
    else:
        rank = "0"
    similarity = _similarity_sql("b", vector, params)
    if types:
        params["types"] = list(types)
        scope = "b.type::text = ANY(%(types)s)"
        order = f"{rank} DESC, b.updated_at DESC"
        if similarity != "NULL::float":
            order = f"coalesce({similarity}, 0) + 4 * {rank} DESC, b.updated_at DESC"
    else:
        if not query:
            return []
        scope = "b.search_document @@ to_tsquery('simple', %(query)s)"
        order = f"{rank} DESC, b.updated_at DESC"
    sql = _CANDIDATES_SQL.format(similarity=similarity, scope=scope, order=order)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


#: The company's referenceable past projects, as candidate rows shaped like blocks':
#: (id, type, name, document stems, heading stems, similarity, client, year). The
#: documents are computed here: a company has tens or hundreds of past projects, not
#: the thousands of blocks whose documents are stored.
_PAST_PROJECTS_SQL = """
WITH p AS (
  SELECT p.id, p.name, p.client, p.year, p.embedding_384, p.embedding_model,
         enpyco_fts(concat_ws(' ', p.name, p.client, p.project_type,
                              CASE WHEN jsonb_typeof(p.metadata) = 'object'
                                   THEN p.metadata->>'lot' END,
                              p.description,
                              array_to_string(p.techniques_used, ' '),
                              array_to_string(p.success_factors, ' '))) AS document,
         enpyco_fts(concat_ws(' ', p.name, p.project_type)) AS heading
  FROM past_projects p
  WHERE p.company_id = %(company)s AND p.is_referenceable
)
SELECT p.id, %(type)s, p.name,
       tsvector_to_array(p.document),
       tsvector_to_array(p.heading),
       {similarity},
       p.client, p.year
FROM p
ORDER BY {order}, p.year DESC NULLS LAST, p.name, p.id
LIMIT %(limit)s
"""


def _past_project_candidates(company_id, terms: Terms, vector) -> list[tuple]:
    params: dict = {
        "company": company_id,
        "limit": CANDIDATES,
        "type": str(T.PAST_PROJECT_REFERENCE),
    }
    query = _tsquery(terms.stems)
    rank = "0"
    if query:
        params["query"] = query
        rank = "ts_rank(p.document, to_tsquery('simple', %(query)s))"
    similarity = _similarity_sql("p", vector, params)
    order = f"{rank} DESC"
    if similarity != "NULL::float":
        order = f"coalesce({similarity}, 0) + 4 * {rank} DESC"
    sql = _PAST_PROJECTS_SQL.format(similarity=similarity, order=order)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def past_project_label(name: str, client: str | None, year) -> str:
    """The first words of a past project's reason: "past project: <name> (<client>,
    <year>)"."""
    details = ", ".join(str(part) for part in (client, year) if part)
    return _("past project: %(name)s") % {"name": f"{name} ({details})" if details else name}


def _share(hits: set, terms: Terms) -> float:
    return len(hits) / len(terms.stems) if terms.stems else 0.0


def score_block(
    requirement: Requirement,
    terms: Terms,
    context: Terms,
    row: tuple,
    semantic=None,
    *,
    label: str | None = None,
) -> tuple[float, str] | None:
    """The confidence (0–1) of one candidate block (or past project, shaped like a
    reference block) for a requirement, and its reason, which starts with ``label``
    when given (else the block's type); None when it should not be proposed."""
    _id, block_type, _title, block_stems, title_stems, similarity = row[:6]
    block_stems, title_stems = set(block_stems or []), set(title_stems or [])
    in_title = set(terms.stems) & title_stems
    in_body = (set(terms.stems) & block_stems) - in_title
    total = terms.weight(terms.stems)
    lexical = (
        min(1.0, (terms.weight(in_title) + 0.6 * terms.weight(in_body)) / total) if total else 0.0
    )
    context_hits = set(context.stems) & block_stems - set(terms.stems)
    vocabulary_share = min(1.0, len(requirement.vocabulary & block_stems) / VOCABULARY_HITS)
    context_share = _share(context_hits, context)
    typed = block_type in requirement.types
    if requirement.types:
        if not typed:
            return None
        # "Moyens matériels affectés au chantier" says nothing but its kind: the
        # project's words tell the blocks apart.
        specific = any(terms.weights.get(s, 1.0) == 1.0 for s in terms.stems)
        lexical_weight = TYPED_LEXICAL if specific else KIND_ONLY_LEXICAL
        confidence = 0.35 + lexical_weight * lexical + (0.65 - lexical_weight) * context_share
        if requirement.vocabulary:
            confidence = (1 - VOCABULARY_WEIGHT) * confidence + VOCABULARY_WEIGHT * vocabulary_share
    else:
        if lexical < 0.34:
            return None
        confidence = 0.15 + 0.65 * lexical + 0.2 * context_share
    if semantic is not None:
        confidence = (1 - SEMANTIC_WEIGHT) * confidence + SEMANTIC_WEIGHT * semantic
    confidence = round(min(1.0, max(0.0, confidence)), 3)
    parts = []
    if label:
        parts.append(label)
    elif typed:
        parts.append(_("type: %(type)s") % {"type": BlockType(block_type).label})
    matched = [terms.words[s] for s in terms.stems if s in in_title | in_body]
    if matched:
        parts.append(_("terms in common: %(terms)s") % {"terms": ", ".join(matched[:6])})
    project_words = [context.words[s] for s in context.stems if s in context_hits]
    if project_words:
        parts.append(_("project's words: %(terms)s") % {"terms": ", ".join(project_words[:4])})
    parts.append(_("lexical similarity %(value)s") % {"value": f"{lexical:.2f}".replace(".", ",")})
    if similarity is not None:
        parts.append(
            _("semantic similarity %(value)s")
            % {"value": f"{float(similarity):.2f}".replace(".", ",")}
        )
    return confidence, " ; ".join(parts)


def calls_for_past_projects(requirement: Requirement) -> bool:
    """Whether a requirement calls for references, where past projects are proposed."""
    return str(T.PAST_PROJECT_REFERENCE) in requirement.types


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def propose_blocks(
    company_id,
    requirement: Requirement,
    terms: Terms,
    context: Terms,
    day: datetime.date,
    *,
    exclude=frozenset(),
    exclude_past_projects=frozenset(),
    vector=None,
    limit: int = BLOCKS_PER_REQUIREMENT,
) -> list[Proposal]:
    """The best blocks of the company for one requirement, best first; for a
    requirement that calls for references, its referenceable past projects compete
    with the blocks for the same places (``exclude_past_projects``: those decided on
    already)."""
    scored = []
    rows = [(False, r) for r in _candidates(company_id, day, terms, requirement.types, vector)]
    if calls_for_past_projects(requirement):
        rows += [(True, r) for r in _past_project_candidates(company_id, terms, vector)]
    sims = [float(r[5]) for _past, r in rows if r[5] is not None]
    low, high = (min(sims), max(sims)) if sims else (0.0, 0.0)
    linked = {}  # past project id → the reference block standing for it
    for is_past, row in rows:
        if row[0] in (exclude_past_projects if is_past else exclude):
            continue
        # A block not embedded yet (saved before embeddings, job still waiting) stands
        # in the middle rather than last.
        semantic = 0.5 if sims else None
        if row[5] is not None:
            # Cosines of one model crowd in a narrow band: what tells blocks apart is
            # where each stands between the requirement's nearest and farthest.
            semantic = (float(row[5]) - low) / (high - low) if high > low else 1.0
        label = past_project_label(row[2], row[6], row[7]) if is_past else None
        result = score_block(requirement, terms, context, row, semantic, label=label)
        if result is None or result[0] < BLOCK_FLOOR:
            continue
        if is_past:
            proposal = Proposal(requirement.id, result[0], result[1], past_project_id=row[0])
        else:
            proposal = Proposal(
                requirement.id, result[0], result[1], block_id=row[0], block_type=row[1]
            )
            if row[6] and _uuid(row[6]):
                linked[_uuid(row[6])] = row[0]
        scored.append(proposal)
    # A past project whose reference block is proposed too is the same reference once.
    scored = [p for p in scored if p.past_project_id is None or p.past_project_id not in linked]
    scored.sort(key=lambda p: -p.confidence)
    if scored:
        best = scored[0].confidence
        floor = max(best * RELATIVE_FLOOR, best - MARGIN)
        scored = [p for p in scored if p.confidence >= floor]
    return scored[:limit]


def propose_passages(company, requirement: Requirement, query: str) -> list[Proposal]:
    """The best passages of the company's past memoirs for one requirement."""
    from rag.embeddings import EmbeddingError
    from rag.search import search_passages

    try:
        passages, _facts = search_passages(company, query, k=PASSAGES_PER_REQUIREMENT)
    except EmbeddingError:
        return []  # the blocks are still proposed; the passages wait for the next run
    found = []
    for passage in passages:
        if passage.score < PASSAGE_FLOOR:
            continue
        similarity = passage.similarity if passage.similarity is not None else 0.0
        confidence = round(min(1.0, max(0.0, similarity)), 3)
        reason = _("memoir passage: %(memoir)s%(heading)s; found by %(how)s") % {
            "memoir": passage.memoire,
            "heading": f" — {passage.heading}" if passage.heading else "",
            "how": ", ".join(passage.found_by) or "—",
        }
        if passage.similarity is not None:
            reason += " ; " + _("semantic similarity %(value)s") % {
                "value": f"{passage.similarity:.2f}".replace(".", ",")
            }
        found.append(
            Proposal(requirement.id, confidence, reason[:1000], passage_id=passage.chunk_id)
        )
    return found


# --- the run --------------------------------------------------------------------------------


def context_text(project: Project, row: RCAnalysis) -> str:
    """The project's own words: its subject and lot (as the RC names them)."""
    info = row.project_info if isinstance(row.project_info, dict) else {}
    parts = [project.name or "", project.lot or ""]
    for name in ("subject", "lot"):
        fact = info.get(name)
        if isinstance(fact, dict) and isinstance(fact.get("value"), str):
            parts.append(fact["value"])
    return " ".join(parts)


class MatchingRefused(Exception):
    """Matching cannot run as things are; nothing was changed."""


def run_matching(
    company,
    project: Project,
    *,
    progress=None,
    passages: bool = True,
    today: datetime.date | None = None,
) -> int:
    """Propose content for every requirement of the company's ``project`` and write the
    proposals (replacing those nobody decided on). Returns how many rows were written."""
    project = Project.objects.for_company(company).get(pk=project.pk)
    row = RCAnalysis.objects.for_company(company).filter(project=project).first()
    if row is None:
        raise MatchingRefused(_("This project has no RC analysis to match."))
    requirements = requirements_of(row)
    day = needed_on(project, today or timezone.localdate())
    texts = [r.text for r in requirements]
    all_terms = terms_of([*texts, context_text(project, row)])
    context = all_terms[-1]
    vocabularies = dict(zip(KIND_VOCABULARY, terms_of(list(KIND_VOCABULARY.values())), strict=True))
    for requirement in requirements:
        requirement.vocabulary = frozenset(
            stem
            for kind in requirement.kinds
            if kind in vocabularies
            for stem in vocabularies[kind].stems
        )
    decided = list(
        ContentMatch.objects.for_company(company)
        .filter(project=project)
        .filter(DECIDED)
        .only("requirement_id", "matched_blocks", "past_project_id")
    )
    kept = {(m.requirement_id, block) for m in decided for block in (m.matched_blocks or [])}
    kept_past_projects = {
        (m.requirement_id, m.past_project_id) for m in decided if m.past_project_id
    }
    # The past projects the decided reference blocks stand for.
    linked = {
        block_id: _uuid(past)
        for block_id, past in ContentBlock.objects.for_company(company)
        .filter(pk__in={b for _r, b in kept}, metadata__has_key="past_project_id")
        .values_list("pk", "metadata__past_project_id")
        if _uuid(past)
    }
    kept_passages = set(
        ContentMatch.objects.for_company(company)
        .filter(project=project, passage_chunk_id__isnull=False)
        .filter(DECIDED)
        .values_list("requirement_id", "passage_chunk_id")
    )
    project_words = context_text(project, row)
    vectors = _requirement_vectors(
        project.company_id, [f"{text} — {project_words}" for text in texts]
    )
    proposals: list[Proposal] = []
    total = len(requirements)
    for index, requirement in enumerate(requirements):
        if progress:
            progress(index, total, _("Matching %(id)s") % {"id": requirement.id})
        exclude = {b for r, b in kept if r == requirement.id}
        exclude_past = {p for r, p in kept_past_projects if r == requirement.id}
        exclude_past |= {linked[b] for b in exclude if b in linked}
        proposals.extend(
            propose_blocks(
                project.company_id,
                requirement,
                all_terms[index],
                context,
                day,
                exclude=exclude,
                exclude_past_projects=exclude_past,
                vector=vectors[index] if vectors else None,
            )
        )
        if passages and requirement.level != "element":
            proposals.extend(
                p
                for p in propose_passages(company, requirement, requirement.text)
                if (requirement.id, p.passage_id) not in kept_passages
            )
    with transaction.atomic():
        ContentMatch.objects.for_company(company).filter(
            project=project, approved=False, rejected=False
        ).delete()
        rows = [
            ContentMatch(
                company_id=project.company_id,
                project=project,
                requirement_id=p.requirement_id,
                matched_blocks=[p.block_id] if p.block_id else [],
                passage_chunk_id=p.passage_id,
                past_project_id=p.past_project_id,
                confidence=p.confidence,
                match_reason=p.reason,
            )
            for p in proposals
        ]
        ContentMatch.objects.bulk_create(rows)
    if progress:
        progress(total, total, _("Matching done"))
    return len(rows)


def _requirement_vectors(company_id, texts: list[str]):
    """(vector, model name) per requirement text with the configured backend, when
    some of the company's blocks or past projects were embedded by the same model;
    else None."""
    from library import embeddings
    from rag.embeddings import get_backend

    model = getattr(get_backend(), "model_name", None)
    if not any(
        library_model.objects.for_company(company_id)
        .filter(embedding_model=model, embedding_384__isnull=False)
        .exists()
        for library_model in (ContentBlock, PastProject)
    ):
        return None
    vectors = [embeddings.query_vector(text) for text in texts]
    return None if any(v is None for v in vectors) else vectors


# --- the job ---------------------------------------------------------------------------------

#: Where matching may start from (a new run from "matched" proposes again).
MATCHABLE = ("rc_analyzed", "matched")


def record_state(project_id, state: dict) -> None:
    """Merge ``state`` into the project's ``metadata["matching"]`` (one UPDATE)."""
    Project.objects.filter(pk=project_id).update(
        metadata=RawSQL(
            "coalesce(metadata, '{}'::jsonb) || jsonb_build_object('matching', "
            "coalesce(metadata->'matching', '{}'::jsonb) || %s::jsonb)",
            [json.dumps(state)],
        )
    )


def queue_matching(company, project: Project, *, user=None, now: bool = False, request=None):
    """Queue the matching of the company's ``project``: it shows "matching" at once and
    "matched" when the job has written its proposals; with ``now`` the job runs in this
    process."""
    from jobs import services as jobs
    from jobs.models import JobKind
    from projects import workflow
    from projects.models import ProjectStatus

    with transaction.atomic():
        locked = Project.objects.for_company(company).select_for_update().get(pk=project.pk)
        if locked.status not in MATCHABLE:
            raise MatchingRefused(
                _(
                    "Matching can run once the RC is analysed, not while the project is "
                    "“%(status)s”."
                )
                % {"status": ProjectStatus(locked.status).label}
            )
        if not RCAnalysis.objects.for_company(company).filter(project=locked).exists():
            raise MatchingRefused(_("This project has no RC analysis to match."))
        workflow.move(company, locked, ProjectStatus.MATCHING, request=request)
        job = jobs.enqueue(company, JobKind.MATCHING, locked, user=user, queue=not now)
        record_state(locked.pk, {"status": "queued", "job": str(job.pk), "error": None})
    if now:
        return jobs.run_inline(job)
    return job


def run_job(job, progress) -> dict:
    """The work of a ``matching`` job (see ``projects.tasks``)."""
    from jobs import registry
    from projects import workflow
    from projects.models import ProjectStatus

    project = Project.objects.for_company(job.company_id).filter(pk=job.target_id).first()
    if project is None:
        raise registry.JobFailed(_("This project no longer exists."))
    if project.status != ProjectStatus.MATCHING:
        raise registry.JobFailed(
            _("The project is no longer being matched (it is “%(status)s”).")
            % {"status": ProjectStatus(project.status).label}
        )
    try:
        written = run_matching(job.company_id, project, progress=progress)
    except MatchingRefused as exc:
        raise registry.JobFailed(str(exc)) from None
    with transaction.atomic():
        workflow.move(job.company_id, project, ProjectStatus.MATCHED)
        record_state(
            project.pk,
            {
                "status": "matched",
                "job": str(job.pk),
                "error": None,
                "rows": written,
                "matched_at": timezone.now().isoformat(),
            },
        )
    return {"rows": written}


def failed(job, message: str) -> None:
    """A matching job that failed for good: the project goes back to "RC analysed" with
    the error on it; the proposals of an earlier run are untouched."""
    from projects import workflow
    from projects.models import ProjectStatus

    with transaction.atomic():
        project = (
            Project.objects.for_company(job.company_id)
            .select_for_update()
            .filter(pk=job.target_id)
            .first()
        )
        if project is None:
            return
        if project.status == ProjectStatus.MATCHING:
            workflow.move(job.company_id, project, ProjectStatus.RC_ANALYZED)
        record_state(
            project.pk,
            {"status": "failed", "job": str(job.pk), "error": message},
        )


# --- decisions (the approval page, and the generation's helper) -----------------------------


def _audit_request(request, user):
    """What the audit rows read the author from: the request, or a user alone."""
    if request is not None or user is None:
        return request
    from types import SimpleNamespace

    return SimpleNamespace(user=user, META={})


def match_of(company, project: Project, match_id) -> ContentMatch:
    """The company's match ``match_id`` of ``project``; ContentMatch.DoesNotExist for
    another company's id as for an id that does not exist."""
    try:
        uuid.UUID(str(match_id))
    except ValueError:
        raise ContentMatch.DoesNotExist from None
    return ContentMatch.objects.for_company(company).get(pk=match_id, project_id=project.pk)


def approve(company, match, *, user=None, request=None, override_reason: str | None = None) -> int:
    """Approve one of the company's matches (``services.set_approval``: expired content
    needs ``override_reason``, else OutdatedContent). A rejected row is approved too."""
    from projects import services

    with transaction.atomic():
        ContentMatch.objects.for_company(company).filter(pk=match.pk, rejected=True).update(
            rejected=False
        )
        return services.set_approval(
            company,
            [match],
            True,
            request=_audit_request(request, user),
            override_reason=override_reason,
        )


def reject(company, match, *, user=None, request=None) -> int:
    """Turn down one of the company's matches: it is no longer approved and a new run
    will not propose it again. Returns 1, or 0 when it was rejected already."""
    from audit import services as audit

    with transaction.atomic():
        rows = list(
            ContentMatch.objects.for_company(company)
            .select_for_update()
            .filter(pk=match.pk, rejected=False)
        )
        if not rows:
            return 0
        [row] = rows
        ContentMatch.objects.filter(pk=row.pk).update(approved=False, rejected=True)
        audit.record_objects(
            "reject",
            rows,
            request=_audit_request(request, user),
            details_for=lambda m: {
                "changes": {
                    "approved": {"old": m.approved, "new": False},
                    "rejected": {"old": False, "new": True},
                }
            },
        )
    return 1


def _check_requirement(company, project: Project, requirement_id: str) -> None:
    """LookupError unless ``requirement_id`` is a requirement of the project's analysis."""
    row = RCAnalysis.objects.for_company(company).filter(project_id=project.pk).first()
    ids = {r.id for r in requirements_of(row)} if row else set()
    if requirement_id not in ids:
        raise LookupError(_("This requirement is not in the project's RC analysis."))


def add_block(company, project: Project, requirement_id: str, block_id) -> ContentMatch:
    """A row proposing one more of the company's blocks for a requirement of the
    project's analysis (not approved yet: ``approve`` it). LookupError for a
    requirement the analysis has not, or a block the company has not."""
    _check_requirement(company, project, requirement_id)
    try:
        block_id = uuid.UUID(str(block_id))
    except ValueError:
        raise LookupError(_("This content block does not exist.")) from None
    block = ContentBlock.objects.for_company(company).filter(pk=block_id).first()
    if block is None:
        raise LookupError(_("This content block does not exist."))
    existing = (
        ContentMatch.objects.for_company(company)
        .filter(project_id=project.pk, requirement_id=requirement_id, matched_blocks=[block.pk])
        .first()
    )
    if existing is not None:
        return existing
    return ContentMatch.objects.create(
        project=Project.objects.for_company(company).get(pk=project.pk),
        requirement_id=requirement_id,
        matched_blocks=[block.pk],
        confidence=None,
        match_reason=_("Added by hand from the library"),
    )


def add_past_project(company, project: Project, requirement_id: str, past_project_id):
    """A row proposing one of the company's referenceable past projects for a
    requirement of the project's analysis (not approved yet: ``approve`` it).
    LookupError for a requirement the analysis has not, or a past project the company
    has not (or that is not referenceable)."""
    _check_requirement(company, project, requirement_id)
    past_project_id = _uuid(past_project_id)
    found = (
        PastProject.objects.for_company(company).filter(pk=past_project_id).first()
        if past_project_id
        else None
    )
    if found is None:
        raise LookupError(_("This past project does not exist."))
    if not found.is_referenceable:
        raise LookupError(
            _("“%(name)s” is not referenceable: it cannot be cited in a memoir.")
            % {"name": found.name}
        )
    existing = (
        ContentMatch.objects.for_company(company)
        .filter(project_id=project.pk, requirement_id=requirement_id, past_project=found)
        .first()
    )
    if existing is not None:
        return existing
    return ContentMatch.objects.create(
        project=Project.objects.for_company(company).get(pk=project.pk),
        requirement_id=requirement_id,
        matched_blocks=[],
        past_project=found,
        confidence=None,
        match_reason=_("Added by hand from the past projects"),
    )


def requirement_ids(company, project: Project) -> list[str] | None:
    """The ids a match of the company's ``project`` may name (its analysis'
    requirements, and the special requirements S1, S2), in order; None without an
    analysis."""
    row = RCAnalysis.objects.for_company(company).filter(project_id=project.pk).first()
    if row is None:
        return None
    ids = [r.id for r in requirements_of(row)]
    for item in row.special_requirements if isinstance(row.special_requirements, list) else []:
        if isinstance(item, dict) and item.get("id") and item["id"] not in ids:
            ids.append(str(item["id"]))
    return ids
