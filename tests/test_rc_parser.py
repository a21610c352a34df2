"""The offline RC parser on the traps real RCs set (issue 13), each on a short text of its
own, then on the whole labelled corpus (projects/rc/corpus)."""

from __future__ import annotations

import json

import pytest

from projects.rc import evaluation
from projects.rc.corpus_pdf import make_pdf
from projects.rc.document import UnreadableDocument, read
from projects.rc.parser import analyse
from tests.documents import make_pdf as make_plain_pdf


def parse(text: str, *, lot: str | None = None):
    return analyse(read(text.encode("utf-8")), lot=lot)


def tree(analysis) -> list:
    """(name, weight, unit, share, [children]) of the tree that applies."""

    def node(c):
        return (c.name, c.weight, c.unit, c.share, [node(s) for s in c.subcriteria])

    return [node(c) for c in analysis.criteria]


# --- the price criterion under other names, and its formula ----------------------------------


@pytest.mark.parametrize(
    "name", ["Valeur économique de l'offre", "Coût global", "Coefficient global de facturation"]
)
def test_price_criterion_not_called_prix(name):
    analysis = parse(
        f"Critères d'attribution :\n- Valeur technique : 60 %\n- {name} : 40 %\n"
        f"La note sera calculée selon la formule : note = 40 × Pmin / P.\n"
    )
    assert tree(analysis) == [
        ("Valeur technique", 60, "%", 0.6, []),
        (name, 40, "%", 0.4, []),
    ]
    assert [c.kind for c in analysis.criteria] == ["technical", "price"]


def test_numbers_of_a_price_formula_are_not_weights():
    analysis = parse(
        "Jugement des offres\n1. Prix : 40 % (note = 40 × Pmin / P)\n2. Valeur technique : 60 %\n"
        "Le prix est noté sur 20 selon la formule N = 20 × (Omin / O).\n"
    )
    assert tree(analysis) == [("Prix", 40, "%", 0.4, []), ("Valeur technique", 60, "%", 0.6, [])]
    assert analysis.warnings == []


def test_a_bare_weight_is_points():
    analysis = parse(
        "Critères de jugement des offres :\nPrix des prestations : 40\nValeur technique : 60\n"
    )
    assert tree(analysis) == [
        ("Prix des prestations", 40, "points", 0.4, []),
        ("Valeur technique", 60, "points", 0.6, []),
    ]


# --- hierarchies ----------------------------------------------------------------------------------


def test_a_flattened_hierarchy_sums_to_100_not_170():
    analysis = parse(
        "Critères d'attribution :\nValeur technique 70 ; Valeur technique : méthodologie 45 ; "
        "Valeur technique : moyens 25 ; Prix 30\n"
    )
    assert tree(analysis) == [
        ("Valeur technique", 70, "points", 0.7, [
            ("méthodologie", 45, "points", 0.45, []),
            ("moyens", 25, "points", 0.25, []),
        ]),
        ("Prix", 30, "points", 0.3, []),
    ]  # fmt: skip


def test_sub_weights_in_percent_of_their_parent():
    analysis = parse(
        "Critères d'attribution\nValeur technique : 55 %, décomposée ainsi :\n"
        "- organisation : 50 %\n- moyens : 30 %\n- environnement : 20 %\nPrix : 45 %\n"
    )
    technical = analysis.criteria[0]
    assert [(s.weight, s.unit, s.share) for s in technical.subcriteria] == [
        (50, "%", 0.275),
        (30, "%", 0.165),
        (20, "%", 0.11),
    ]
    assert analysis.warnings == []


def test_sub_weights_on_the_global_scale():
    analysis = parse(
        "Critères d'attribution\nValeur technique 60 % : méthodologie 25 pts, moyens humains et "
        "matériels 15 pts, planning 10 pts, environnement 10 pts ; Prix 40 %.\n"
    )
    technical = analysis.criteria[0]
    assert [(s.name, s.weight, s.unit, s.share) for s in technical.subcriteria] == [
        ("méthodologie", 25, "points", 0.25),
        ("moyens humains et matériels", 15, "points", 0.15),
        ("planning", 10, "points", 0.1),
        ("environnement", 10, "points", 0.1),
    ]


def test_sub_criteria_marked_out_of_n():
    analysis = parse(
        "Critères d'attribution\nCritère 1 : Valeur technique (60 %)\n"
        "La valeur technique est notée sur 20 points, répartis entre les sous-critères suivants :\n"
        "- Méthodologie : note sur 10\n- Produits : note sur 6\n- Planning : note sur 4\n"
        "Critère 2 : Prix (40 %)\n"
    )
    technical = analysis.criteria[0]
    assert [(s.weight, s.unit, s.share) for s in technical.subcriteria] == [
        (10, "/10", 0.3),
        (6, "/6", 0.18),
        (4, "/4", 0.12),
    ]
    assert analysis.warnings == []


def test_pour_moitie():
    analysis = parse(
        "Jugement des offres\n1) Valeur technique : 50 %, appréciée pour moitié sur la méthodologie "
        "et pour moitié sur la qualité des végétaux ;\n2) Prix des prestations : 50 %.\n"
    )
    technical = analysis.criteria[0]
    assert [(s.name, s.weight, s.unit, s.share, s.written) for s in technical.subcriteria] == [
        ("méthodologie", 50, "%", 0.25, "pour moitié"),
        ("qualité des végétaux", 50, "%", 0.25, "pour moitié"),
    ]


def test_sub_weights_that_match_nothing_are_a_warning():
    analysis = parse(
        "Critères d'attribution\n1. Valeur technique : 60 %\n- Méthodologie : 30 %\n"
        "- Moyens : 20 %\n- Planning : 5 %\n2. Prix : 40 %\n"
    )
    assert any("55" in w and "Valeur technique" in w for w in analysis.warnings)


def test_elements_of_appreciation_are_not_sub_criteria():
    analysis = parse(
        "Critères d'attribution\n- Valeur technique : 60 %. Elle sera appréciée au regard des "
        "éléments d'appréciation suivants, non pondérés :\n  • la méthodologie ;\n"
        "  • les références de chantiers similaires.\n- Prix : 40 %.\n"
    )
    technical = analysis.criteria[0]
    assert technical.subcriteria == []
    assert [(e.name, e.weight, e.share, e.id) for e in technical.elements] == [
        ("méthodologie", None, None, "C1.E1"),
        ("références de chantiers similaires", None, None, "C1.E2"),
    ]


def test_criteria_in_decreasing_order_of_importance_have_no_weight():
    analysis = parse(
        "Jugement des offres\nLes critères sont, par ordre décroissant d'importance :\n"
        "1. Valeur technique\n2. Prix des prestations\n"
    )
    assert [(c.name, c.weight, c.unit, c.share, c.rank) for c in analysis.criteria] == [
        ("Valeur technique", None, None, None, 1),
        ("Prix des prestations", None, None, None, 2),
    ]
    assert analysis.ranked and analysis.notes


def test_criteria_inside_one_sentence():
    analysis = parse(
        "5. Jugement des offres\nLe jugement des offres sera effectué selon les critères pondérés "
        "suivants : la valeur technique de l'offre pour 60 % et le prix des prestations pour 40 %.\n"
    )
    assert tree(analysis) == [
        ("valeur technique de l'offre", 60, "%", 0.6, []),
        ("prix des prestations", 40, "%", 0.4, []),
    ]


def test_criteria_deferred_to_the_consultation_documents_are_not_invented():
    analysis = parse(
        "AVIS D'APPEL PUBLIC À LA CONCURRENCE\nCritères d'attribution : offre économiquement la "
        "plus avantageuse (prix, valeur technique).\nLes critères de jugement et leur pondération "
        "sont précisés dans les documents de la consultation.\n"
    )
    assert analysis.criteria == [] and analysis.criteria_by_lot == {}
    assert analysis.criteria_deferred
    assert any(
        "documents de la consultation" in w or "consultation documents" in w
        for w in analysis.warnings
    )


# --- lots ---------------------------------------------------------------------------------------------

LOTS = """Lot 1 : Gros œuvre
Lot 2 : Charpente bois
Critères d'attribution
Pour l'ensemble des lots :
Prix : 40 %
Valeur technique : 60 %
Par dérogation, pour le lot n°2, les critères sont les suivants :
Prix : 30 %
Valeur technique : 50 %
Performances environnementales : 20 %
"""


def test_lots_have_their_own_criteria_and_the_lots_win():
    analysis = parse(LOTS)
    assert [c.name for c in analysis.criteria] == ["Prix", "Valeur technique"]  # no lot chosen
    assert sorted(analysis.criteria_by_lot) == ["2"]
    assert [c.id for c in analysis.criteria_by_lot["2"]] == ["L2.C1", "L2.C2", "L2.C3"]
    chosen = parse(LOTS, lot="Lot 02 – Charpente")
    assert [(c.name, c.weight) for c in chosen.criteria] == [
        ("Prix", 30),
        ("Valeur technique", 50),
        ("Performances environnementales", 20),
    ]
    assert [c.id for c in chosen.criteria] == ["C1", "C2", "C3"]
    assert chosen.value("lot") == "Lot 2 – Charpente bois"


def test_lots_without_common_criteria_need_the_projects_lot():
    text = "Jugement des offres\nPour le lot 1 :\n- Prix : 40 %\n- Valeur technique : 60 %\nPour le lot 2 :\n- Prix : 60 %\n- Valeur technique : 40 %\n"
    analysis = parse(text)
    assert analysis.criteria == [] and sorted(analysis.criteria_by_lot) == ["1", "2"]
    assert any("lot" in w for w in analysis.warnings)
    assert [c.weight for c in parse(text, lot="2").criteria] == [60, 40]


def test_a_single_lot_named_is_the_lot():
    analysis = parse(
        "Consultation relative au lot n°4 : Menuiseries intérieures bois\nCritères : prix 50 %, valeur technique 50 %.\n"
    )
    assert analysis.value("lot") == "Lot 4 – Menuiseries intérieures bois"


# --- the table of contents, the cover, the deadline ---------------------------------------------

TOC = (
    "RÈGLEMENT DE LA CONSULTATION\nDate d'envoi de l'avis : 27 janvier 2025\n"
    "Date limite de réception des offres : 7 mars 2025 à 12h00\nSOMMAIRE\n"
    "Article 5 – Jugement des offres ........ 4\nArticle 6 – Visite obligatoire du site ........ 5\n"
    "\fARTICLE 5 – JUGEMENT DES OFFRES\nPrix : 30 %\nValeur technique : 70 %\n"
    "ARTICLE 6 – VISITE DU SITE\nLa visite du site est facultative.\n"
)


def test_the_table_of_contents_is_not_the_article():
    analysis = parse(TOC)
    assert [(c.name, c.source["page"]) for c in analysis.criteria] == [
        ("Prix", 2),
        ("Valeur technique", 2),
    ]
    assert analysis.value("site_visit") == "optional"  # not the sommaire's "obligatoire"


def test_the_deadline_is_the_offers_not_the_dispatch_date():
    analysis = parse(TOC)
    assert analysis.value("deadline") == "2025-03-07T12:00:00+01:00"
    assert analysis.facts["deadline"].source["page"] == 1


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("le lundi 24 février 2025 à 16 heures", "2025-02-24T16:00:00+01:00"),
        ("avant le 12 mai 2025 à 21h00 (heure de Paris)", "2025-05-12T21:00:00+02:00"),
        ("le 18 avril 2025 A 12 HEURES 00", "2025-04-18T12:00:00+02:00"),
        ("15/04/2025 à 12:00", "2025-04-15T12:00:00+02:00"),
        ("mardi 9 décembre 2025, 12h00", "2025-12-09T12:00:00+01:00"),
        ("18 mai 2026 à 16 h 30", "2026-05-18T16:30:00+02:00"),
    ],
)
def test_deadline_spellings(written, expected):
    analysis = parse(f"Date limite de remise des offres : {written}.\n")
    assert analysis.value("deadline") == expected


def test_a_postponed_deadline_wins():
    analysis = parse(
        "La date limite de remise des offres, initialement fixée au 3 mars 2025 à 12h00, est "
        "reportée au lundi 17 mars 2025 à 12h00.\n"
    )
    assert analysis.value("deadline") == "2025-03-17T12:00:00+01:00"


def test_the_buyer_is_the_maitre_d_ouvrage_not_the_maitre_d_oeuvre():
    analysis = parse(
        "Maître d'œuvre : Cabinet Architecture & Patrimoine, 8 rue des Carmes, 45000 Orléans\n"
        "Mandataire du maître d'ouvrage : SEM du Loiret.\n"
        "Maître de l'ouvrage : Commune de Meung-sur-Loire, représentée par Monsieur le Maire\n"
    )
    assert analysis.value("buyer") == "Commune de Meung-sur-Loire"
    source = analysis.facts["buyer"].source
    assert "Meung-sur-Loire" in source["excerpt"] and source["page"] == 1


def test_nothing_is_invented():
    analysis = parse("Commune de Nulle-Part\nTravaux divers.\n")
    out = analysis.to_output()
    assert {
        k: out[k]
        for k in (
            "buyer",
            "subject",
            "lot",
            "location",
            "deadline",
            "page_limit",
            "site_visit",
            "variants_allowed",
        )
    } == dict.fromkeys(
        (
            "buyer",
            "subject",
            "lot",
            "location",
            "deadline",
            "page_limit",
            "site_visit",
            "variants_allowed",
        )
    )
    assert out["criteria"] == [] and out["required_contents"] == []


def test_visit_variants_page_limit_and_required_contents():
    analysis = parse(
        "Visite des lieux : sans objet.\nVariantes : non autorisées.\n"
        "Le mémoire technique ne devra pas excéder 15 pages A4 recto, police Arial taille 11. Il comprendra :\n"
        "- la méthodologie ;\n- le planning.\nLe dossier comprend 45 pages de plans.\n"
    )
    assert analysis.value("site_visit") == "none"
    assert analysis.value("variants_allowed") is False
    assert analysis.value("page_limit") == 15
    assert analysis.format_constraints == ["A4", "recto", "police Arial", "taille 11"]
    assert [(c.id, c.text) for c in analysis.required_contents] == [
        ("R1", "la méthodologie"),
        ("R2", "le planning"),
    ]


# --- PDFs ---------------------------------------------------------------------------------------------


def test_a_pdf_with_running_headers_and_a_flattened_table():
    text = (
        "Critères d'attribution\nCritères Pondération\nValeur technique 55 %\n"
        "dont organisation 30 %\ndont moyens 25 %\nPrix des prestations 45 %\nTotal 100 %\n"
        "\fDate limite de réception des offres : 19 septembre 2025 à 12h00\n"
        "\fLe pouvoir adjudicateur est la Commune d'Anglet.\n"
    )
    data = make_pdf(text, header="Commune d'Anglet – Règlement de la consultation", footer="RC")
    doc = read(data)
    assert doc.kind == "pdf" and doc.page_count == 3
    assert not any("Règlement de la consultation" in line.text for line in doc.lines)
    analysis = analyse(doc)
    assert tree(analysis) == [
        ("Valeur technique", 55, "%", 0.55, [("organisation", 30, "%", 0.3, []), ("moyens", 25, "%", 0.25, [])]),
        ("Prix des prestations", 45, "%", 0.45, []),
    ]  # fmt: skip
    assert analysis.value("deadline") == "2025-09-19T12:00:00+02:00"
    assert analysis.facts["deadline"].source["page"] == 2


def test_a_scanned_pdf_is_refused_in_french():
    blank = make_plain_pdf([[""], [""]])
    with pytest.raises(UnreadableDocument, match="OCR"):
        read(blank)


def test_a_file_of_another_kind_is_refused():
    with pytest.raises(UnreadableDocument):
        read(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)


# --- the corpus ----------------------------------------------------------------------------------------

SAMPLES = evaluation.samples()


def test_the_corpus_has_the_documents_the_issue_asks_for():
    texts = [s for s in SAMPLES if s.path.suffix == ".txt"]
    assert len(texts) >= 30
    assert sum(s.path.suffix == ".pdf" for s in SAMPLES) >= 4
    traps = {t for s in SAMPLES for t in s.expected.get("_traps", [])}
    for trap in (
        "price-alias", "price-formula", "flattened-hierarchy", "sub-percent-of-parent",
        "sub-scale-notes", "sub-pour-moitie", "ranked-no-weights", "inline-sentence",
        "criteria-deferred", "elements-not-subcriteria", "lots-different-criteria",
        "toc-repeats", "cover-two-dates", "deadline-heures", "buyer-vs-moe", "flattened-table",
    ):  # fmt: skip
        assert trap in traps, trap


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_each_corpus_document_gives_its_expected_answer(sample):
    report = evaluation.Report()
    output = analyse(read(sample.path.read_bytes())).to_output()
    evaluation.score(report, sample, output)
    assert report.mistakes == [], json.dumps(output, ensure_ascii=False, indent=1)[:2000]
