"""``manage.py check_memoir_facts [--company COMPANY]``: the facts of every written
section that its approved content does not hold (a certification the sources do not
give, a person who is not on their CVs; the past projects cited are the section's
own words), per project, and the total — the "0 invented
facts" target of the generation. Exit status 1 when any is found."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from library.models import ContentBlock, PastProject
from projects.memoir import factcheck, review
from projects.models import Project, Section
from projects.services import needed_on
from tenants import rls
from tenants.models import Company


class Command(BaseCommand):
    help = "Check every written memoir section against the approved content it was written from."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--company", help="Only this company (its name or id).")

    def handle(self, *args, company=None, **options) -> None:
        with rls.every_company():
            companies = list(Company.objects.order_by("name"))
        if company:
            companies = [c for c in companies if company in (c.name, str(c.pk))]
            if not companies:
                self.stderr.write(f"Entreprise inconnue : « {company} ».")
                sys.exit(1)
        checked = found = 0
        for each in companies:
            with rls.session(rls.of_company(each)):
                for project in Project.objects.for_company(each).order_by("name"):
                    sections = list(
                        Section.objects.for_company(each)
                        .filter(project_id=project.pk)
                        .exclude(content__isnull=True)
                        .exclude(content="")
                        .order_by("order_num")
                    )
                    if not sections:
                        continue
                    on = needed_on(project)
                    problems = []
                    for section in sections:
                        ids = list((section.source_versions or {}).keys()) or list(
                            section.source_blocks or []
                        )
                        blocks = list(ContentBlock.objects.for_company(each).filter(pk__in=ids))
                        past_projects = list(
                            PastProject.objects.for_company(each).filter(
                                pk__in=list(review.cited_past_projects(section))
                            )
                        )
                        for fact in factcheck.unknown_facts(
                            each, section.content, blocks, on, past_projects=past_projects
                        ):
                            problems.append(f"    {section.title} : {fact}")
                    checked += len(sections)
                    found += len(problems)
                    self.stdout.write(
                        f"{each.name} — {project.name} : {len(sections)} sections, "
                        f"{len(problems)} fait(s) absent(s) du contenu approuvé"
                    )
                    for line in problems:
                        self.stdout.write(line)
        self.stdout.write(
            f"Total : {checked} sections vérifiées, {found} fait(s) absent(s) du contenu approuvé."
        )
        if found:
            sys.exit(1)
