"""The kinds of audit actions (the verb ending ``action``: ``content_block.update``)
and their names."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

#: The name of each kind of action, for the filter and the search.
ACTION_LABELS = {
    "create": gettext_lazy("Creation"),
    "update": gettext_lazy("Change"),
    "delete": gettext_lazy("Deletion"),
    "restore": gettext_lazy("Restoration of a version"),
    "review": gettext_lazy("Review"),
    "approve": gettext_lazy("Approval"),
    "reject": gettext_lazy("Approval withdrawn"),
    "approve_override": gettext_lazy("Approval despite outdated content"),
    "transition": gettext_lazy("Change of step"),
    "analyse": gettext_lazy("Analysis of the RC"),
    "index": gettext_lazy("Indexing"),
    "reembed": gettext_lazy("Re-indexing"),
    "word_template_set": gettext_lazy("Word template uploaded"),
    "word_template_remove": gettext_lazy("Word template removed"),
    "logo_set": gettext_lazy("Logo uploaded"),
    "logo_remove": gettext_lazy("Logo removed"),
    "login": gettext_lazy("Login"),
    "logout": gettext_lazy("Logout"),
    "login_failed": gettext_lazy("Failed login"),
    "login_throttled": gettext_lazy("Login refused"),
}


def verb(action: str) -> str:
    """``update`` for ``content_block.update``."""
    return action.rsplit(".", 1)[-1]


__all__ = ["ACTION_LABELS", "verb"]
