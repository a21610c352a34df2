"""Review and approval steps of the workflow.

Each function takes the company it acts for and changes that company's rows only: ids
of another company's sections or matches are ignored like ids that do not exist.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from library.models import ContentBlock
from projects.models import ContentMatch, Project, Section

#: The longest override reason kept (the audit row holds it).
OVERRIDE_REASON_MAX = 1000


def _ids(rows: Iterable) -> list:
    """Ids of ``rows``: a queryset, instances or ids."""
    if hasattr(rows, "values_list"):
        return list(rows.values_list("pk", flat=True))
    return [getattr(row, "pk", row) for row in rows]


def mark_reviewed(company, sections: Iterable, *, user, request=None) -> int:
    """Mark the company's ``sections`` reviewed by ``user`` now: one UPDATE, and one
    audit row per section written in a single INSERT. Returns how many changed."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Section.objects.for_company(company)
            .select_for_update(of=("self",))
            .filter(pk__in=_ids(sections), reviewed=False)
            .select_related("project")
        )
        Section.objects.filter(pk__in=[s.pk for s in rows]).update(
            reviewed=True, reviewer=user, reviewed_at=now
        )
        audit.record_objects(
            "review",
            rows,
            request=request,
            details_for=lambda section: {
                "changes": {
                    "reviewed": {"old": False, "new": True},
                    "reviewer_id": {"old": audit.to_json(section.reviewer_id), "new": str(user.pk)},
                    "reviewed_at": {
                        "old": audit.to_json(section.reviewed_at),
                        "new": audit.to_json(now),
                    },
                }
            },
        )
    return len(rows)


@dataclass(frozen=True)
class OutdatedBlock:
    """A block of a match that will not be valid when it must be."""

    match_id: object
    requirement_id: str
    project: str
    block_id: object
    title: str
    valid_until: datetime.date
    needed_on: datetime.date  # today, or the project's deadline when later
    expired: bool  # already expired today (else: expires before the deadline)

    def as_json(self) -> dict:
        return {
            "block_id": str(self.block_id),
            "title": self.title,
            "valid_until": self.valid_until.isoformat(),
            "needed_on": self.needed_on.isoformat(),
            "expired": self.expired,
        }


class OutdatedContent(Exception):
    """Approving would put expired content in a memoir, or content that expires
    before the project's deadline; nothing was approved."""

    def __init__(self, outdated: list[OutdatedBlock]):
        self.outdated = outdated
        super().__init__(str(self))

    def __str__(self) -> str:
        names = ", ".join(
            _("“%(block)s” (%(date)s)")
            % {"block": o.title, "date": o.valid_until.strftime("%d/%m/%Y")}
            for o in self.outdated
        )
        return _(
            "Not approved: expired content, or content expiring before the project's "
            "deadline: %(blocks)s. Approve with a reason to override."
        ) % {"blocks": names}


def needed_on(project: Project, today: datetime.date | None = None) -> datetime.date:
    """The day a project's content must still be valid: its deadline (local date), or
    today when the deadline is past or unknown."""
    today = today or timezone.localdate()
    if project.deadline is None:
        return today
    return max(today, timezone.localdate(project.deadline))


def outdated_blocks(
    company, matches: Iterable, *, today: datetime.date | None = None
) -> list[OutdatedBlock]:
    """The blocks of the company's ``matches`` that will not be valid on the day their
    project needs them (``needed_on``): one query for the matches, one for the blocks."""
    today = today or timezone.localdate()
    rows = list(
        ContentMatch.objects.for_company(company)
        .filter(pk__in=_ids(matches))
        .select_related("project")
        .only("pk", "requirement_id", "matched_blocks", "project__name", "project__deadline")
    )
    return outdated_in(company, rows, today)


def outdated_in(company, rows: list, today: datetime.date) -> list[OutdatedBlock]:
    """``outdated_blocks`` of match rows already read (their ``project`` loaded), or of
    matches being edited; one query for the blocks."""
    limits = {row.pk: needed_on(row.project, today) for row in rows}
    ids = {block_id for row in rows for block_id in (row.matched_blocks or [])}
    if not ids:
        return []
    dated = {
        block["pk"]: block
        for block in ContentBlock.objects.for_company(company)
        .filter(pk__in=ids, valid_until__lt=max(limits.values()))
        .values("pk", "title", "valid_until")
    }
    found = []
    for row in rows:
        for block_id in row.matched_blocks or []:
            block = dated.get(block_id)
            if block and block["valid_until"] < limits[row.pk]:
                found.append(
                    OutdatedBlock(
                        match_id=row.pk,
                        requirement_id=row.requirement_id,
                        project=row.project.name,
                        block_id=block_id,
                        title=block["title"],
                        valid_until=block["valid_until"],
                        needed_on=limits[row.pk],
                        expired=block["valid_until"] < today,
                    )
                )
    return found


def set_approval(
    company,
    matches: Iterable,
    approved: bool,
    *,
    request=None,
    override_reason: str | None = None,
    today: datetime.date | None = None,
) -> int:
    """Approve or reject the company's content ``matches``: one UPDATE, and one audit
    row per match that changed, written in a single INSERT. Returns how many changed.

    A match whose blocks have expired, or expire before its project's deadline, is
    approved only with ``override_reason`` (the reason, kept in its audit row, whose
    action is then ``content_match.approve_override``); without one, OutdatedContent is
    raised and nothing changes. Rejecting needs no reason.
    """
    # NUL characters cannot be stored in the audit row's JSON.
    reason = (override_reason or "").replace("\x00", "").strip()[:OVERRIDE_REASON_MAX]
    with transaction.atomic():
        rows = list(
            ContentMatch.objects.for_company(company)
            .select_for_update(of=("self",))
            .filter(pk__in=_ids(matches))
            .exclude(approved=approved)
            .select_related("project")
        )
        outdated: dict = {}
        if approved:
            for item in outdated_in(company, rows, today or timezone.localdate()):
                outdated.setdefault(item.match_id, []).append(item)
            if outdated and not reason:
                raise OutdatedContent([o for items in outdated.values() for o in items])
        ContentMatch.objects.filter(pk__in=[m.pk for m in rows]).update(approved=approved)
        changes = {"changes": {"approved": {"old": not approved, "new": approved}}}
        plain = [m for m in rows if m.pk not in outdated]
        audit.record_objects(
            "approve" if approved else "reject",
            plain,
            request=request,
            details_for=lambda _match: changes,
        )
        audit.record_objects(
            "approve_override",
            [m for m in rows if m.pk in outdated],
            request=request,
            details_for=lambda match: {
                **changes,
                "override": {
                    "reason": reason,
                    "blocks": [o.as_json() for o in outdated[match.pk]],
                },
            },
        )
    return len(rows)
