"""A project ready for its memoir: an analysed RC (valeur technique with méthodologie and
moyens, prix), approved matches to typed blocks, and content the matches do not approve
(another person's CV, an ISO 14001 certificate) that no section may name."""

from __future__ import annotations

from dataclasses import dataclass

from library.choices import BlockType
from projects.models import ProjectStatus
from tests.factories import (
    CompanyFactory,
    ContentBlockFactory,
    ContentMatchFactory,
    ProjectFactory,
    RCAnalysisFactory,
    UserFactory,
)


@dataclass
class Memoir:
    company: object
    user: object
    project: object
    analysis: object
    cv: object
    equipment: object
    qualibat: object
    expired_mase: object
    reference: object
    procedure: object
    other_cv: object
    iso14001: object


def memoir_project(company=None, **project_fields) -> Memoir:
    company = company or CompanyFactory(name="Bâtiments du Sud-Ouest")
    user = UserFactory(company=company)
    project = ProjectFactory(
        company=company,
        created_by=user,
        status=ProjectStatus.MATCHED,
        name="Construction du gymnase Jean Moulin",
        client="Commune d'Anglet",
        location="Anglet",
        lot="Lot 02 — Gros œuvre",
        **project_fields,
    )
    analysis = RCAnalysisFactory(project=project)

    def block(block_type, title, metadata=None, content="Texte du bloc.", **extra):
        fields = {"metadata": metadata} if metadata is not None else {}
        return ContentBlockFactory(
            company=company,
            created_by=user,
            type=block_type,
            title=title,
            content=content,
            **fields,
            **extra,
        )

    cv = block(BlockType.PERSON_CV, "CV Marc Dubois")
    equipment = block(
        BlockType.EQUIPMENT,
        "Grue à tour MDT 219",
        {
            "designation": "Grue à tour Potain MDT 219",
            "quantity": 2,
            "capacity": "10 t",
            "inspections": [{"kind": "periodic", "next_on": "2031-06-30", "mandatory": True}],
        },
    )
    qualibat = block(
        BlockType.CERTIFICATION,
        "Qualibat 2112",
        {
            "scheme": "qualibat",
            "number": "QB-2112-77",
            "body": "Qualibat",
            "valid_until": "2031-01-01",
        },
    )
    expired_mase = block(
        BlockType.CERTIFICATION,
        "MASE expiré",
        {
            "scheme": "mase",
            "number": "MASE-0042",
            "body": "MASE",
            "valid_until": "2020-01-01",
        },
    )
    reference = block(
        BlockType.PAST_PROJECT_REFERENCE,
        "Groupe scolaire de Bayonne",
        {
            "client": "Ville de Bayonne",
            "year": 2023,
            "amount": 4200000,
            "lot": "Lot 02",
        },
    )
    procedure = block(
        BlockType.PROCEDURE,
        "Procédure de bétonnage",
        {"reference": "PR-QSE-07", "revision": "D"},
        content="Le bétonnage des voiles de {nom_projet} suit la procédure PR-QSE-07.",
    )
    other_cv = block(
        BlockType.PERSON_CV,
        "CV Sophie Martin",
        {
            "name": "Sophie Martin",
            "role": "Cheffe de chantier",
            "years_experience": 9,
        },
    )
    iso14001 = block(
        BlockType.CERTIFICATION,
        "ISO 14001",
        {
            "scheme": "iso-14001",
            "number": "ENV-998877",
            "body": "AFNOR",
            "valid_until": "2031-01-01",
        },
    )
    ContentMatchFactory(
        project=project, requirement_id="C1.1", approved=True, blocks=[procedure, reference]
    )
    ContentMatchFactory(
        project=project,
        requirement_id="C1.2",
        approved=True,
        blocks=[cv, equipment, qualibat, expired_mase],
    )
    ContentMatchFactory(
        project=project, requirement_id="R2", approved=False, blocks=[other_cv, iso14001]
    )
    return Memoir(
        company,
        user,
        project,
        analysis,
        cv,
        equipment,
        qualibat,
        expired_mase,
        reference,
        procedure,
        other_cv,
        iso14001,
    )
