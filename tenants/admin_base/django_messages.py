"""Django's admin messages that our French catalog words anew.

Django's French says "L’objet bloc de contenu « … » a été ajouté avec succès": correct,
but it speaks of an "objet". Our catalog (``locale/``, read before Django's) gives
them a form that needs no gender: "Ajout enregistré : bloc de contenu « … »." The
msgids are listed here so that ``makemessages`` keeps them in the catalog.
"""

from django.utils.translation import gettext_noop

MESSAGES = (
    gettext_noop("The {name} “{obj}” was added successfully."),
    gettext_noop("You may edit it again below."),
    gettext_noop("The {name} “{obj}” was added successfully. You may add another {name} below."),
    gettext_noop("The {name} “{obj}” was changed successfully."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may add another {name} below."),
    gettext_noop("The %(name)s “%(obj)s” was deleted successfully."),
    gettext_noop("Successfully deleted %(count)d %(items)s."),
    # The button under an inline: "Ajouter un objet Section supplémentaire" in
    # Django's French, where the name is capitalised.
    gettext_noop("Add another %(verbose_name)s"),
)
