"""French grammar of the admin's model names: one table, used by every title, button
and sentence that puts an article before a model's name.

Django builds its titles by pasting the model's name after a fixed word ("Modification
de %s"), which gives "Modification de entreprise". Here each phrase is a message with a
grammatical context (the name's gender, and whether it starts with a vowel sound), so
the French catalog can give "Modification de l’entreprise", "Modification du projet",
"Ajout d’une section", "Ajouter un utilisateur". In English every context reads the same.

The gender is a property of the French name, so it is stated here, once per model.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

MASCULINE = "masculine"
FEMININE = "feminine"

#: The grammatical gender of each model's French name (``verbose_name``), by label.
GENDERS: dict[str, str] = {
    "auth.group": MASCULINE,  # groupe
    "tenants.company": FEMININE,  # entreprise
    "tenants.user": MASCULINE,  # utilisateur
    "library.contentblock": MASCULINE,  # bloc de contenu
    "library.storedfile": MASCULINE,  # fichier
    "library.blockfile": MASCULINE,  # fichier joint
    "library.pastproject": FEMININE,  # référence
    "library.sectiontemplate": MASCULINE,  # modèle de section
    "projects.project": MASCULINE,  # projet
    "projects.section": FEMININE,  # section
    "projects.rcanalysis": FEMININE,  # analyse du RC
    "projects.projectdocument": MASCULINE,  # document de la consultation
    "projects.contentmatch": FEMININE,  # correspondance de contenu
    "projects.generationrequest": FEMININE,  # demande de génération
    "projects.sectionversion": FEMININE,  # version de section
    "projects.memoirexport": MASCULINE,  # export du mémoire
    "rag.memoire": MASCULINE,  # mémoire
    "rag.documentchunk": MASCULINE,  # extrait de document
    "audit.auditlog": FEMININE,  # entrée du journal d’audit
    "jobs.job": FEMININE,  # tâche de fond
}

#: A shorter name for sentences, where the full one would be heavy ("le bloc « … »").
SHORT_NAMES = {
    "library.contentblock": _("block"),
    "projects.projectdocument": _("document"),
    "projects.generationrequest": _("generation request"),
    "rag.documentchunk": _("extract"),
}

_VOWELS = set("aàâäeéèêëiîïoôöuùûüyœæ")
#: Words starting with an "h" that takes the elision ("l’historique").
_MUTE_H = ("habilit", "hist", "hôp", "hom", "heur", "hyg", "hébergement")


def gender(model: type[models.Model] | models.Model) -> str:
    return GENDERS.get(model._meta.label_lower, MASCULINE)


def elides(word: str) -> bool:
    """Whether "le"/"la"/"de" before ``word`` become "l’"/"d’"."""
    word = word.strip().lower()
    if not word:
        return False
    return word[0] in _VOWELS or word.startswith(_MUTE_H)


def context(model: type[models.Model] | models.Model, name: str | None = None) -> str:
    """The grammatical context of the model's name: "masculine", "feminine",
    "masculine, elided" or "feminine, elided"."""
    name = str(model._meta.verbose_name) if name is None else name
    kind = gender(model)
    return f"{kind}, elided" if elides(name) else kind


def name(model: type[models.Model] | models.Model, *, short: bool = False) -> str:
    if short and model._meta.label_lower in SHORT_NAMES:
        return str(SHORT_NAMES[model._meta.label_lower])
    return str(model._meta.verbose_name)


def phrase(
    model: type[models.Model] | models.Model, message: str, *, short: bool = False, **values
) -> str:
    """``message`` (a msgid with ``%(name)s``) in the context of the model's name.

    The msgid must be marked for translation where it is written, once per context:
    see ``_MESSAGES`` below.
    """
    noun = name(model, short=short)
    return pgettext(context(model, noun), message) % {"name": noun, **values}


def add_title(model) -> str:
    return phrase(model, "Adding %(name)s")


def change_title(model) -> str:
    return phrase(model, "Changing %(name)s")


def view_title(model) -> str:
    return phrase(model, "Viewing %(name)s")


def add_button(model) -> str:
    return phrase(model, "Add %(name)s")


def choose_title(model) -> str:
    return phrase(model, "Choose %(name)s")


def definite(model, label: str, *, short: bool = True) -> str:
    """The model's name with its definite article and an object's name: "le bloc
    « CV — Marc Dubois »", "l’entreprise « Enpyco »"."""
    return phrase(model, "the %(name)s “%(label)s”", short=short, label=label)


#: Every phrase above in every context, written out for makemessages.
_MESSAGES = (
    pgettext_lazy("masculine", "Cannot delete %(name)s"),
    pgettext_lazy("feminine", "Cannot delete %(name)s"),
    pgettext_lazy("masculine, elided", "Cannot delete %(name)s"),
    pgettext_lazy("feminine, elided", "Cannot delete %(name)s"),
    pgettext_lazy("masculine", "Adding %(name)s"),
    pgettext_lazy("feminine", "Adding %(name)s"),
    pgettext_lazy("masculine, elided", "Adding %(name)s"),
    pgettext_lazy("feminine, elided", "Adding %(name)s"),
    pgettext_lazy("masculine", "Changing %(name)s"),
    pgettext_lazy("feminine", "Changing %(name)s"),
    pgettext_lazy("masculine, elided", "Changing %(name)s"),
    pgettext_lazy("feminine, elided", "Changing %(name)s"),
    pgettext_lazy("masculine", "Viewing %(name)s"),
    pgettext_lazy("feminine", "Viewing %(name)s"),
    pgettext_lazy("masculine, elided", "Viewing %(name)s"),
    pgettext_lazy("feminine, elided", "Viewing %(name)s"),
    pgettext_lazy("masculine", "Add %(name)s"),
    pgettext_lazy("feminine", "Add %(name)s"),
    pgettext_lazy("masculine, elided", "Add %(name)s"),
    pgettext_lazy("feminine, elided", "Add %(name)s"),
    pgettext_lazy("masculine", "Choose %(name)s"),
    pgettext_lazy("feminine", "Choose %(name)s"),
    pgettext_lazy("masculine, elided", "Choose %(name)s"),
    pgettext_lazy("feminine, elided", "Choose %(name)s"),
    pgettext_lazy("masculine", "the %(name)s “%(label)s”"),
    pgettext_lazy("feminine", "the %(name)s “%(label)s”"),
    pgettext_lazy("masculine, elided", "the %(name)s “%(label)s”"),
    pgettext_lazy("feminine, elided", "the %(name)s “%(label)s”"),
)
