"""Which backend analyses an RC, and running it on a file's bytes.

``RC_ANALYSIS_BACKEND``: ``auto`` (the default) uses the language model when
``LLM_PROVIDER`` is set and the offline parser otherwise; ``parser`` and ``llm`` force
one. The parser always runs: the LLM backend is compared with it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext as _

from projects.rc import document, parser

BACKENDS = ("auto", "parser", "llm")


class UnknownBackend(ValueError):
    pass


def resolve(name: str | None = None) -> str:
    """``parser`` or ``llm``."""
    chosen = (name or settings.RC_ANALYSIS_BACKEND or "auto").strip().lower()
    if chosen not in BACKENDS:
        raise UnknownBackend(
            _("Unknown RC analysis backend “%(name)s”: use %(choices)s.")
            % {"name": chosen, "choices": ", ".join(BACKENDS)}
        )
    if chosen == "auto":
        return (
            "llm" if (settings.LLM_PROVIDER or "").strip().lower() not in ("", "none") else "parser"
        )
    return chosen


def analyse_bytes(
    data: bytes,
    *,
    backend: str | None = None,
    lot: str | None = None,
    observer=None,
    progress: Callable[..., None] | None = None,
):
    """Read and analyse ``data``; raises ``document.UnreadableDocument`` (French message)
    for a file that cannot be read, and ``llm.errors.LLMError`` for an LLM backend that
    is not configured."""
    report = progress or (lambda *args, **kwargs: None)
    chosen = resolve(backend)
    client = None
    if chosen == "llm":
        from llm.client import LLMClient
        from llm.config import ProviderConfig

        client = LLMClient(ProviderConfig.from_settings(), observer=observer)
    report(1, 4 if client else 3, _("Reading the document"))
    doc = document.read(data)
    report(2, 4 if client else 3, _("Reading the criteria and key facts"))
    parsed = parser.analyse(doc, lot=lot)
    if client is None:
        return parsed
    report(3, 4, _("Asking the language model"))
    from projects.rc import llm_backend

    return llm_backend.analyse(doc, parsed, client, lot=lot)
