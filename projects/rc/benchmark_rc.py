"""The 40-page RC of the parser's timing benchmark (``corpus/benchmark/``), written
out by ``build_rc_corpus``: a full RC whose articles on administrative clauses carry
the numbers a parser must not take for criteria (a 5 % guarantee, a 20 % advance, a
1/3000 penalty, 30-day payment terms), a table of contents, and the criteria article
in the middle of the document."""

from __future__ import annotations

import json

_CLAUSES = [
    (
        "Avances",
        "Une avance est accordée au titulaire lorsque le montant initial du marché est "
        "supérieur à 50 000 euros hors taxes et que le délai d'exécution est supérieur à "
        "deux mois. Son montant est fixé à 20 % du montant initial du marché. Le "
        "remboursement de l'avance commence lorsque le montant des prestations exécutées "
        "atteint 65 % du montant initial et doit être terminé lorsqu'il atteint 80 %.",
    ),
    (
        "Retenue de garantie",
        "Une retenue de garantie de 5 % du montant initial du marché est prélevée sur "
        "chaque acompte. Elle peut être remplacée, au gré du titulaire, par une garantie à "
        "première demande ou, si les deux parties en sont d'accord, par une caution "
        "personnelle et solidaire. La retenue est libérée un mois après l'expiration du "
        "délai de garantie.",
    ),
    (
        "Pénalités de retard",
        "Par dérogation à l'article 19.2.1 du CCAG Travaux, le titulaire encourt, sans "
        "mise en demeure préalable, une pénalité journalière de 1/3000 du montant hors "
        "taxes du marché par jour calendaire de retard. Les pénalités sont plafonnées à "
        "10 % du montant du marché. Les absences aux réunions de chantier sont "
        "sanctionnées par une pénalité forfaitaire de 150 euros par absence.",
    ),
    (
        "Modalités de paiement",
        "Les sommes dues au titulaire sont payées dans un délai global de 30 jours à "
        "compter de la réception de la demande de paiement. Le défaut de paiement dans ce "
        "délai fait courir de plein droit des intérêts moratoires au taux de la Banque "
        "centrale européenne majoré de huit points, ainsi qu'une indemnité forfaitaire de "
        "40 euros pour frais de recouvrement.",
    ),
    (
        "Variation des prix",
        "Les prix sont révisables mensuellement par application d'une formule "
        "paramétrique. La partie fixe représente 12,5 % du prix ; l'index de référence est "
        "l'index BT01 publié par l'INSEE. Le coefficient de révision est arrondi au "
        "millième supérieur. Aucune révision n'est appliquée au-delà du délai contractuel.",
    ),
    (
        "Sous-traitance",
        "Le titulaire peut sous-traiter l'exécution de certaines parties de son marché, "
        "sous réserve de l'acceptation du ou des sous-traitants et de l'agrément de leurs "
        "conditions de paiement par le maître d'ouvrage. Le sous-traitant direct dont le "
        "contrat dépasse 600 euros TTC bénéficie du paiement direct.",
    ),
    (
        "Assurances",
        "Le titulaire justifie, dans un délai de 15 jours à compter de la notification du "
        "marché et avant tout commencement d'exécution, qu'il est titulaire d'une "
        "assurance de responsabilité civile et d'une assurance de responsabilité décennale "
        "couvrant les ouvrages de la présente opération.",
    ),
    (
        "Hygiène et sécurité",
        "Le chantier relève d'une opération de catégorie 2 au sens du code du travail. "
        "Chaque entreprise remet son plan particulier de sécurité et de protection de la "
        "santé dans un délai de 30 jours à compter de la réception de l'ordre de service. "
        "Les équipements de protection individuelle sont portés en permanence.",
    ),
    (
        "Gestion des déchets",
        "Le titulaire trie les déchets de chantier en au moins cinq flux et justifie de "
        "leur traçabilité par les bordereaux de suivi. Un objectif de valorisation de "
        "70 % en masse des déchets non dangereux est fixé. Le brûlage est interdit.",
    ),
    (
        "Réception des travaux",
        "La réception est prononcée dans les conditions de l'article 41 du CCAG Travaux. "
        "Les opérations préalables à la réception comprennent les épreuves prévues au "
        "CCTP. Le délai de garantie de parfait achèvement est d'un an à compter de la date "
        "d'effet de la réception.",
    ),
]


def forty_page_text() -> tuple[str, str]:
    """(text of the RC, its expected answer as JSON)."""
    head = """COMMUNE DE VILLENEUVE-SUR-LOT
Direction des services techniques

MARCHÉ PUBLIC DE TRAVAUX – PROCÉDURE ADAPTÉE

RÈGLEMENT DE LA CONSULTATION

Réhabilitation et extension du groupe scolaire Jean Jaurès

Date d'envoi de l'avis à la publication : 6 janvier 2026
Date et heure limites de réception des offres : lundi 9 février 2026 à 12h00
"""
    articles = [
        (
            "Objet de la consultation",
            [
                "Objet de la consultation : Réhabilitation et extension du groupe scolaire Jean Jaurès.",
                "Maître d'ouvrage : Commune de Villeneuve-sur-Lot, boulevard de la République, 47300 Villeneuve-sur-Lot",
                "Maître d'œuvre : Atelier Garonne Architecture, mandataire du groupement de maîtrise d'œuvre.",
                "Lieu d'exécution : Groupe scolaire Jean Jaurès, rue de Penne, 47300 Villeneuve-sur-Lot",
                "Le marché est traité en lots séparés, dont la liste figure à l'article suivant.",
            ],
        ),
    ]
    body_titles = []
    for round_ in range(4):
        for title, text in _CLAUSES[: 4 if round_ == 3 else None]:
            body_titles.append(
                (
                    f"{title}"
                    + ("" if not round_ else f" – dispositions complémentaires ({round_})"),
                    text,
                )
            )
    sections = []
    number = 1
    toc = ["SOMMAIRE"]

    def add(title: str, paragraphs: list[str]) -> None:
        nonlocal number
        toc.append(f"Article {number} – {title} .......... {number + 1}")
        sections.append(
            f"\fARTICLE {number} – {title.upper()}\n\n" + "\n\n".join(paragraphs) + "\n"
        )
        number += 1

    add(*articles[0])
    for index, (title, text) in enumerate(body_titles):
        paragraphs = [text] * 8
        if index == len(body_titles) // 2:
            add(
                "Jugement des offres",
                [
                    "Le jugement des offres est effectué selon les critères pondérés suivants :",
                    "1. Valeur technique : 60 %\n   - Méthodologie et phasage en site occupé : 30 %\n   - Moyens humains et matériels : 20 %\n   - Démarche environnementale : 10 %\n2. Prix des prestations : 40 %",
                    "La note du prix est calculée selon la formule : Note = 40 × (Pmin / P).",
                ],
            )
            add(
                "Visite du site",
                [
                    "La visite du site est obligatoire. Elle est organisée les mercredis de janvier à 14 heures."
                ],
            )
            add("Variantes", ["Les variantes ne sont pas autorisées."])
            add(
                "Contenu du mémoire technique",
                [
                    "Le mémoire technique ne devra pas dépasser 30 pages. Il comprendra :\n"
                    "- la méthodologie d'intervention en site occupé ;\n"
                    "- les moyens humains et matériels affectés ;\n"
                    "- le planning détaillé par phase ;\n"
                    "- la démarche environnementale du chantier."
                ],
            )
        add(title, paragraphs)
    text = head + "\n" + "\n".join(toc) + "\n" + "".join(sections)
    expected = {
        "_traps": ["40-pages", "administrative-percentages", "toc-repeats", "running-headers"],
        "buyer": "Commune de Villeneuve-sur-Lot",
        "subject": "Réhabilitation et extension du groupe scolaire Jean Jaurès",
        "lot": None,
        "location": "Groupe scolaire Jean Jaurès, rue de Penne, 47300 Villeneuve-sur-Lot",
        "deadline": "2026-02-09T12:00:00+01:00",
        "page_limit": 30,
        "site_visit": "compulsory",
        "variants_allowed": False,
        "required_contents": [
            "la méthodologie d'intervention en site occupé",
            "les moyens humains et matériels affectés",
            "le planning détaillé par phase",
            "la démarche environnementale du chantier",
        ],
        "criteria": [
            {
                "name": "Valeur technique",
                "weight": 60,
                "unit": "%",
                "share": 0.6,
                "subcriteria": [
                    {
                        "name": "Méthodologie et phasage en site occupé",
                        "weight": 30,
                        "unit": "%",
                        "share": 0.3,
                        "subcriteria": [],
                    },
                    {
                        "name": "Moyens humains et matériels",
                        "weight": 20,
                        "unit": "%",
                        "share": 0.2,
                        "subcriteria": [],
                    },
                    {
                        "name": "Démarche environnementale",
                        "weight": 10,
                        "unit": "%",
                        "share": 0.1,
                        "subcriteria": [],
                    },
                ],
            },
            {
                "name": "Prix des prestations",
                "weight": 40,
                "unit": "%",
                "share": 0.4,
                "subcriteria": [],
            },
        ],
        "criteria_by_lot": {},
    }
    return text, json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
