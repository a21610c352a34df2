"""The labelled set of ``evaluate_matching`` (matching_set.json) and its measure.

The set's library (blocks and past projects) is written for a throw-away company (with
a copy of it for a second company, which must never be proposed), each RC becomes a
project with an analysis whose required contents are the set's requirements, matching
runs on each, and what it proposed is compared with the blocks and past projects the
set expects. Everything runs in a transaction rolled back at the end.

* recall@k: share of the expected blocks and past projects found among the first k
  proposals;
* precision@5: share of the first 5 proposals (fewer when fewer are proposed) that
  are expected;
* expired: proposals of blocks expired, expiring before the deadline or inactive;
* not referenceable: proposals of past projects that may not be cited.
"""

from __future__ import annotations

import datetime
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

SET_PATH = Path(__file__).with_name("matching_set.json")


def load() -> dict:
    with SET_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


def metadata_for(block_type: str, until: datetime.date | None, title: str) -> dict:
    """Typed facts that give the block the validity the set asks for."""
    if until is None:
        return {}
    day = until.isoformat()
    if block_type == "person-cv":
        return {
            "name": title.split("—")[-1].split(",")[0].strip(),
            "qualifications": [{"kind": "sst", "expires_on": day, "mandatory": True}],
        }
    if block_type == "equipment":
        return {
            "designation": title,
            "inspections": [{"kind": "periodic", "next_on": day, "mandatory": True}],
        }
    if block_type == "certification":
        return {"scheme": "other", "number": "EVAL", "body": "Organisme", "valid_until": day}
    return {}


@dataclass
class Scores:
    requirements: int = 0
    recall3: float = 0.0
    recall5: float = 0.0
    precision5: float = 0.0

    def add(self, expected: set, proposed: list) -> None:
        self.requirements += 1
        top5 = proposed[:5]
        self.recall3 += len(expected & set(proposed[:3])) / len(expected)
        self.recall5 += len(expected & set(top5)) / len(expected)
        self.precision5 += (len(expected & set(top5)) / len(top5)) if top5 else 0.0

    def means(self) -> dict:
        n = self.requirements or 1
        return {
            "requirements": self.requirements,
            "recall@3": self.recall3 / n,
            "recall@5": self.recall5 / n,
            "precision@5": self.precision5 / n,
        }


@dataclass
class Report:
    blocks: int = 0
    past_projects: int = 0
    requirements: int = 0
    by_kind: dict = field(default_factory=lambda: defaultdict(Scores))
    overall: Scores = field(default_factory=Scores)
    expired_proposed: int = 0
    unreferenceable_proposed: int = 0
    foreign_proposed: int = 0
    seconds: float = 0.0
    model: str = ""
    misses: list = field(default_factory=list)


def _until(value, today: datetime.date, deadline: datetime.date):
    if value is None:
        return None
    if value == "short":
        return today + (deadline - today) / 2
    return today + datetime.timedelta(days=int(value))


def _library(company, user, data, today, deadline) -> tuple[dict, set]:
    from library.models import ContentBlock

    keys, unusable = {}, set()
    for item in data["blocks"]:
        key, block_type, title, content, validity = item[:5]
        active = "inactive" not in item[5:]
        until = _until(validity, today, deadline)
        block = ContentBlock(
            company=company,
            type=block_type,
            title=title,
            content=content,
            metadata=metadata_for(block_type, until, title),
            tags=[],
            is_active=active,
            created_by=user,
        )
        block.save()
        keys[block.pk] = key
        if not active or (block.valid_until is not None and block.valid_until < deadline):
            unusable.add(key)
    return keys, unusable


def _past_projects(company, data) -> tuple[dict, set]:
    """The set's past projects for ``company``: ``{id: key}`` and the keys of those
    that are not referenceable."""
    from library.models import PastProject

    keys, unusable = {}, set()
    for item in data.get("past_projects", []):
        referenceable = item.get("referenceable", True)
        past = PastProject.objects.create(
            company=company,
            name=item["name"],
            client=item.get("client"),
            year=item.get("year"),
            project_type=item.get("type"),
            description=item.get("description"),
            techniques_used=item.get("techniques") or [],
            is_referenceable=referenceable,
            metadata={k: item[k] for k in ("amount", "lot") if k in item},
        )
        keys[past.pk] = item["key"]
        if not referenceable:
            unusable.add(item["key"])
    return keys, unusable


def evaluate(*, embed: bool = True, log=lambda message: None) -> Report:
    from projects import matching
    from projects.models import ContentMatch, Project, ProjectStatus, RCAnalysis
    from tenants.models import Company, User

    data = load()
    report = Report(blocks=len(data["blocks"]), past_projects=len(data.get("past_projects", [])))
    today = timezone.localdate()
    deadline = today + datetime.timedelta(days=int(data.get("deadline_days", 60)))

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            company = Company.objects.create(name="Évaluation du rapprochement")
            other = Company.objects.create(name="Autre entreprise (isolation)")
            users = [
                User.objects.create(email=f"evaluation-{c.pk}@example.invalid", company=c)
                for c in (company, other)
            ]
            keys, unusable = _library(company, users[0], data, today, deadline)
            foreign, _unused = _library(other, users[1], data, today, deadline)
            past_keys, unreferenceable = _past_projects(company, data)
            foreign_past, _unused = _past_projects(other, data)
            log(
                f"  {len(keys)} blocks and {len(past_keys)} past projects written (and a "
                "copy for another company)"
            )
            if embed:
                from library import embeddings

                started = time.perf_counter()
                embeddings.embed_blocks(company, list(keys))
                embeddings.embed_blocks(other, list(foreign))
                embeddings.embed_past_projects(company, list(past_keys))
                embeddings.embed_past_projects(other, list(foreign_past))
                report.model = embeddings.fitting_backend().model_name
                log(f"  library embedded in {time.perf_counter() - started:.1f} s")
            for number, spec in enumerate(data["projects"], start=1):
                project = Project.objects.create(
                    company=company,
                    name=spec["name"],
                    lot=spec["lot"],
                    status=ProjectStatus.RC_ANALYZED,
                    deadline=timezone.make_aware(
                        datetime.datetime.combine(deadline, datetime.time(12))
                    ),
                    created_by=users[0],
                )
                contents = [
                    {"id": f"R{i}", "text": text, "criterion": None, "source": None}
                    for i, (_kind, text, _expected) in enumerate(spec["requirements"], start=1)
                ]
                RCAnalysis.objects.create(
                    project=project,
                    rc_file_url="evaluation",
                    required_sections=contents,
                    scoring_criteria={"version": 1, "criteria": []},
                )
                started = time.perf_counter()
                matching.run_matching(company, project, passages=False)
                report.seconds += time.perf_counter() - started
                rows = ContentMatch.objects.filter(project=project).order_by(
                    "requirement_id", "-confidence"
                )
                proposed: dict[str, list] = defaultdict(list)
                for row in rows:
                    for block_id in row.matched_blocks or []:
                        if block_id in foreign:
                            report.foreign_proposed += 1
                        key = keys.get(block_id)
                        if key in unusable:
                            report.expired_proposed += 1
                        proposed[row.requirement_id].append(key)
                    if row.past_project_id:
                        if row.past_project_id in foreign_past:
                            report.foreign_proposed += 1
                        key = past_keys.get(row.past_project_id)
                        if key in unreferenceable:
                            report.unreferenceable_proposed += 1
                        proposed[row.requirement_id].append(key)
                for i, (kind, text, expected) in enumerate(spec["requirements"], start=1):
                    got = proposed.get(f"R{i}", [])
                    expected = set(expected)
                    report.by_kind[kind].add(expected, got)
                    report.overall.add(expected, got)
                    report.requirements += 1
                    missed = sorted(expected - set(got[:5]))
                    wrong = [k for k in got[:5] if k not in expected]
                    if missed or wrong:
                        report.misses.append((number, text, missed, wrong))
            raise Rollback
    except Rollback:
        pass
    return report
