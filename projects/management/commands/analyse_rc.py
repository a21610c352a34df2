"""``manage.py analyse_rc FILE [--backend NAME] [--lot N]``: analyse an RC (PDF, DOCX or
TXT) without saving anything and print one JSON object (docs/rc_analysis.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from llm.errors import LLMError
from projects.rc.backends import BACKENDS, UnknownBackend, analyse_bytes
from projects.rc.document import UnreadableDocument


class Command(BaseCommand):
    help = "Analyse an RC file (PDF, DOCX or TXT) and print its criteria and key facts as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The RC: a PDF, DOCX or TXT file.")
        parser.add_argument(
            "--backend",
            choices=BACKENDS,
            help="parser (offline), llm (the configured model) or auto (RC_ANALYSIS_BACKEND).",
        )
        parser.add_argument("--lot", help="The lot whose criteria apply (its number).")

    def fail(self, message: str) -> None:
        """One French line on stderr, exit status 1, nothing printed on stdout."""
        self.stderr.write(message.replace("\n", " "))
        sys.exit(1)

    def handle(self, *args, file: str, backend: str | None, lot: str | None, **options) -> None:
        path = Path(file)
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            self.fail(f"Impossible de lire « {file} » : c'est un dossier, pas un fichier.")
        except FileNotFoundError:
            self.fail(f"Impossible de lire « {file} » : ce fichier n'existe pas.")
        except OSError as exc:
            self.fail(f"Impossible de lire « {file} » : {exc.strerror or exc}.")
        try:
            analysis = analyse_bytes(data, backend=backend, lot=lot)
        except UnreadableDocument as exc:
            self.fail(f"Impossible d'analyser « {file} » : {exc}")
        except (LLMError, UnknownBackend) as exc:
            self.fail(str(exc))
        self.stdout.write(json.dumps(analysis.to_output(), ensure_ascii=False, indent=2))
