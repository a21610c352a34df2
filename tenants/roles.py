"""What each role of a company may do, in one place.

Roles are turned into ordinary Django permissions (``app.action_model``) by the
authentication backend, so the admin shows and hides buttons from the same source
as it checks them. Platform superusers have every permission and no company.
"""

from __future__ import annotations

from tenants.models import Role

VIEW = ("view",)
EDIT = ("view", "add", "change", "delete")

#: Everything a company's members can read.
_READABLE = {
    "tenants.company": VIEW,
    "tenants.user": VIEW,
    "library.contentblock": VIEW,
    "library.storedfile": VIEW,
    "library.blockfile": VIEW,
    "library.pastproject": VIEW,
    "library.sectiontemplate": VIEW,
    "projects.project": VIEW,
    "projects.section": VIEW,
    "projects.rcanalysis": VIEW,
    "projects.projectdocument": VIEW,
    "projects.contentmatch": VIEW,
    "projects.generationrequest": VIEW,
    # Written by the application only (generation, edits, exports): read by every member.
    "projects.sectionversion": VIEW,
    "projects.memoirexport": VIEW,
    "rag.memoire": VIEW,
    "rag.documentchunk": VIEW,
    "jobs.job": VIEW,
}

#: What a *user* edits: the library, memoirs and the tender workflow. Document chunks
#: and background jobs are written by the application only; users and the company
#: profile are the admin's.
_CONTENT = {
    model: EDIT
    for model in (
        "library.contentblock",
        "library.storedfile",
        "library.blockfile",
        "library.pastproject",
        "library.sectiontemplate",
        "projects.project",
        "projects.section",
        "projects.rcanalysis",
        "projects.projectdocument",
        "projects.contentmatch",
        "projects.generationrequest",
        "rag.memoire",
    )
}

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.VIEWER: dict(_READABLE),
    Role.USER: {**_READABLE, **_CONTENT},
    Role.ADMIN: {
        **_READABLE,
        **_CONTENT,
        "tenants.user": EDIT,
        "tenants.company": ("view", "change"),
        "audit.auditlog": VIEW,
    },
}


def permissions_for_role(role: str) -> set[str]:
    """``{"app_label.codename", …}`` granted by ``role``."""
    granted = set()
    for model, actions in ROLE_PERMISSIONS.get(role, {}).items():
        app_label, model_name = model.split(".")
        granted.update(f"{app_label}.{action}_{model_name}" for action in actions)
    return granted
