"""Full-text search of memoir chunks with a French question.

A question such as "Quelles opérations avons-nous faites pour Oppidea ?" holds one or
two useful words among interrogatives and auxiliaries. ``websearch_to_tsquery`` ANDed
them all, so most questions matched nothing. Here:

* ``parse`` keeps the question's content words (French stop words, interrogatives and
  question auxiliaries dropped) and the pairs of neighbouring content words, as
  phrases ("moyens de levage");
* a chunk is a candidate if it holds any content word (stem or exact word, accents
  folded or not: see ``config.db.search``);
* candidates are ranked by the sum, over the words they hold, of each word's weight
  (rarer words weigh more, from the lexeme frequencies ANALYZE keeps for
  ``search_document``), plus a bonus for the exact word (not only its stem), for a
  word of the title or heading path, and for each phrase found as written; ties are
  broken by ``ts_rank`` then by id, so the order is deterministic.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import connection

from rag.lexemes import frequencies as lexeme_counts

#: French stop words (PostgreSQL's list, plus their accent-folded forms) and the words
#: a question is made of: interrogatives, auxiliaries, "faire", pronouns.
_STOP_WORDS = """
a à ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez
aurions aurons auront aux avaient avais avait avec avez aviez avions avoir avons
ayant ayez ayons c ce ceci cela celà ces cet cette d dans de des du elle elles en es
est et étaient étais était étant été étée étées étés êtes étiez étions être eu eue
eues eûmes eurent eus eusse eussent eusses eussiez eussions eut eût eûtes eux fûmes
furent fus fusse fussent fusses fussiez fussions fut fût fûtes il ils j je l la le
les leur leurs lui m ma mais me même mes moi mon n ne nos notre nous on ont ou où
par pas pour qu que quel quelle quelles quels qui s sa sans se sera serai seraient
serais serait seras serez seriez serions serons seront ses soi soient sois soit
sommes son sont soyez soyons suis sur t ta te tes toi ton tu un une vos votre vous y
comment pourquoi quand combien quoi lequel laquelle lesquels lesquelles auquel
auxquels auxquelles duquel desquels desquelles dont est-ce qu'est-ce ceux celle
celles celui tout tous toute toutes très plus moins aussi bien ainsi alors donc car
si faire fait faite faites faits fais font faisons faisait fera ferons peut peuvent
pouvez pouvons pourrait pourrions doit doivent devez devons devrait avons-nous
avez-vous sont-ils est-il existe-t-il quelqu quelque quelques
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
STOP_WORDS = STOP_WORDS | {
    unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in STOP_WORDS
}

#: Words of a question, in order: letters and digits (apostrophes and hyphens split
#: words: "l'amiante" → l, amiante; "gère-t-on" → gère, t, on).
_WORD = re.compile(r"[^\W_]+")
#: At most this many words count (a pasted paragraph is not a question).
MAX_TERMS = 16
#: Bonuses, in units of the word's weight (chosen on rag/evaluation, see
#: docs/performance.md): the exact word and not only its stem, a word of the title or
#: heading path; a phrase of two neighbouring words as written.
EXACT_BONUS = 0.5
HEADING_BONUS = 0.5
PHRASE_BONUS = 1.0
#: A word held by more than this share of the chunks does not choose candidates (it
#: still counts in the ranking of those chosen by rarer words): ranking every chunk
#: that holds "chantier" would read most of a big company's chunks.
CANDIDATE_MAX_FREQUENCY = 0.2
#: Candidates ranked at most: the fusion needs the best few dozen, and ranking costs
#: ≈ 25 µs a candidate (300: 8 ms, 150: 5 ms for a 5,000-chunk company).
MAX_CANDIDATES = 200


@dataclass
class ParsedQuestion:
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse(question: str) -> ParsedQuestion:
    """The content words of ``question`` (first occurrence order, lower case) and its
    phrases: two neighbouring content words with only stop words between them."""
    words = _WORD.findall((question or "").lower())
    parsed = ParsedQuestion()
    previous: list[str] = []  # words since the last content word, that one included
    for word in words:
        is_content = word not in STOP_WORDS and (len(word) > 1 or word.isdigit())
        if not is_content:
            if previous:
                previous.append(word)
            continue
        if previous and len(previous) <= 3:
            phrase = " ".join([*previous, word])
            if phrase not in parsed.phrases:
                parsed.phrases.append(phrase)
        previous = [word]
        if word not in parsed.terms and len(parsed.terms) < MAX_TERMS:
            parsed.terms.append(word)
    return parsed


@dataclass
class WeightedTerms:
    terms: list[str]
    weights: list[float]
    candidates: list[str]  # the terms that choose candidates
    phrases: list[str]
    phrase_weights: list[float]


def weigh(parsed: ParsedQuestion, company_id) -> WeightedTerms:
    """Each term's weight: the inverse document frequency, among the company's chunks,
    of its most frequent lexeme (``chunk_lexemes``; a lexeme no chunk holds counts as
    half a chunk)."""
    lexemes = term_lexemes(parsed.terms) if parsed.terms else {}
    total, counts = lexeme_counts(
        company_id, sorted({lx for found in lexemes.values() for lx in found})
    )
    weights, frequency_of = [], {}
    for term in parsed.terms:
        if not total:
            frequency = 0.01  # no chunk yet: every word weighs the same
        else:
            frequency = (
                max((counts.get(lx, 0.5) for lx in lexemes.get(term, ())), default=0.5) / total
            )
        frequency_of[term] = frequency
        weights.append(_idf(frequency))
    candidates = [t for t in parsed.terms if frequency_of[t] <= CANDIDATE_MAX_FREQUENCY]
    phrase_weights = []
    for phrase in parsed.phrases:
        words = [w for w in _WORD.findall(phrase) if w in frequency_of]
        phrase_weights.append(sum(_idf(frequency_of[w]) for w in words) / max(1, len(words)))
    return WeightedTerms(
        parsed.terms, weights, candidates or list(parsed.terms), parsed.phrases, phrase_weights
    )


def _idf(frequency: float) -> float:
    """BM25's inverse document frequency, for a share of the chunks."""
    frequency = min(max(frequency, 1e-6), 1.0)
    return math.log(1 + (1 - frequency + 1e-3) / (frequency + 1e-3))


def term_lexemes(terms: list[str]) -> dict[str, list[str]]:
    """The lexemes ``enpyco_chunk_fts`` makes of each term (stems and folded word);
    they never change, so each process asks the server once per word."""
    missing = [t for t in terms if t not in _LEXEMES]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t, tsvector_to_array(to_tsvector('french', t) "
                "|| to_tsvector('french', enpyco_unaccent(t)) "
                "|| to_tsvector('enpyco_words', enpyco_unaccent(t))) "
                "FROM unnest(%s::text[]) AS t",
                [missing],
            )
            if len(_LEXEMES) > 50_000:
                _LEXEMES.clear()
            _LEXEMES.update(cursor.fetchall())
    return {t: _LEXEMES.get(t, []) for t in terms}


_LEXEMES: dict[str, list[str]] = {}


def or_query(terms: list[str], weights: str = "") -> str:
    """``to_tsquery`` text OR-ing ``terms`` (words only: safe to pass as it is)."""
    suffix = f":{weights}" if weights else ""
    return " | ".join(f"{t}{suffix}" for t in terms)


#: The question's terms and phrases, as tsqueries (common table expressions).
_TERMS = """
    terms AS MATERIALIZED (
        SELECT enpyco_chunk_query(t.term, t.term) AS q_any,
               enpyco_chunk_query('', t.term || ':CD') AS q_exact,
               enpyco_chunk_query(t.term || ':A', t.term || ':C') AS q_head,
               t.weight
        FROM unnest(%(terms)s::text[], %(weights)s::float8[]) AS t(term, weight)
    ), phrases AS MATERIALIZED (
        SELECT phraseto_tsquery('enpyco_words', enpyco_unaccent(p.phrase)) AS q, p.weight
        FROM unnest(%(phrases)s::text[], %(phrase_weights)s::float8[]) AS p(phrase, weight)
    )
"""
#: Ranks the rows of ``matches`` (id, d: their document).
_RANKED = f"""
    SELECT m.id,
           (SELECT coalesce(sum(t.weight * ((m.d @@ t.q_any)::int
                                            + {EXACT_BONUS} * (m.d @@ t.q_exact)::int
                                            + {HEADING_BONUS} * (m.d @@ t.q_head)::int)), 0)
            FROM terms t)
         + (SELECT coalesce(sum({PHRASE_BONUS} * p.weight * (m.d @@ p.q)::int), 0)
            FROM phrases p) AS score,
           ts_rank(m.d, enpyco_chunk_query(%(all)s, %(all)s)) AS rank,
           (SELECT sum(t.weight * (m.d @@ t.q_any)::int) FROM terms t) AS covered
    FROM matches m
    ORDER BY score DESC, rank DESC, m.id
    LIMIT %(n)s
"""
_MATCHES = "@@ enpyco_chunk_query(%(candidates)s, %(candidates)s)"
#: A stored document longer than 2 kB lives in TOAST, and each ``@@`` of the ranking
#: would fetch and decompress it again (20 times a row: 63 buffer reads per candidate);
#: concatenating it with an empty document makes one in-memory copy per candidate.
_DETOASTED = "({d} || ''::tsvector)"


def candidates_sql(scope: str) -> str:
    """The ranking SQL: ``scope`` is the FROM/WHERE of the company's chunks (alias c)."""
    return f"""
        WITH {_TERMS}, matches AS MATERIALIZED (
            SELECT c.id, {_DETOASTED.format(d="c.search_document")} AS d
            {scope} AND c.search_document {_MATCHES}
            LIMIT {MAX_CANDIDATES}
        )
        {_RANKED}
    """
