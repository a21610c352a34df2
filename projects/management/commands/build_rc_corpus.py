"""``manage.py build_rc_corpus``: (re)make the corpus' PDFs and DOCX from its texts, and
the 40-page RC PDF of the timing benchmark."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from projects.rc import corpus_pdf, evaluation
from projects.rc.benchmark_rc import forty_page_text

#: Texts also shipped as PDF (running headers, wrapped lines, a flattened table…).
AS_PDF = (
    "01-salle-multisports",
    "03-voirie-departementale",
    "09-lots-criteres-differents",
    "17-tableau-aplati",
    "27-numerotation-hierarchique",
)
AS_DOCX = ("05-accord-cadre-entretien", "23-format-contraintes")


def header_of(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{first.title()} – Règlement de la consultation"


class Command(BaseCommand):
    help = "Make the PDF and DOCX documents of the RC corpus from its texts."

    def handle(self, *args, **options) -> None:
        corpus = evaluation.CORPUS
        for stem in AS_PDF:
            text = (corpus / f"{stem}.txt").read_text("utf-8")
            data = corpus_pdf.make_pdf(text, header=header_of(text), footer=f"RC {stem[:2]}")
            (corpus / f"{stem}.pdf").write_bytes(data)
            self.stdout.write(f"{stem}.pdf ({len(data):,} bytes)")
        for stem in AS_DOCX:
            text = (corpus / f"{stem}.txt").read_text("utf-8")
            data = corpus_pdf.make_docx(text)
            (corpus / f"{stem}.docx").write_bytes(data)
            self.stdout.write(f"{stem}.docx ({len(data):,} bytes)")
        text, expected = forty_page_text()
        target = evaluation.BENCHMARK_PDF
        target.parent.mkdir(parents=True, exist_ok=True)
        data = corpus_pdf.make_pdf(text, header=header_of(text), footer="RC benchmark")
        target.write_bytes(data)
        target.with_name("rc-40-pages.expected.json").write_text(expected, "utf-8")
        from pypdf import PdfReader

        self.stdout.write(f"{target.name}: {len(PdfReader(str(target)).pages)} pages")
