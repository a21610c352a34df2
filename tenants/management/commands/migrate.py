"""``migrate`` as the owner of the tables (``DATABASES["owner"]``) unless told
otherwise: the application's own role may not create or alter them."""

from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(database="owner")
