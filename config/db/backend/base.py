"""PostgreSQL backend with two additions to Django's.

* Foreign keys carry the ``ON DELETE`` rule of the model field (see ``schema.py``).
* With ``EMBEDDED_PGDATA`` in the database settings, the embedded pgserver is started
  on the first connection, so commands that never touch the database never start it.
"""

from django.db.backends.postgresql import base
from django.db.backends.postgresql.client import DatabaseClient as BaseClient

from config.db.backend.schema import DatabaseSchemaEditor


class DatabaseClient(BaseClient):
    """``manage.py dbshell`` reaches the embedded server over its socket too."""

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        pgdata = settings_dict.get("EMBEDDED_PGDATA")
        if pgdata and not settings_dict.get("HOST"):
            from config.db.embedded import ensure_server

            host = ensure_server(pgdata, settings_dict["NAME"] or "postgres")
            settings_dict = {**settings_dict, "HOST": host}
        return super().settings_to_cmd_args_env(settings_dict, parameters)


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
    client_class = DatabaseClient

    def get_connection_params(self):
        params = super().get_connection_params()
        pgdata = self.settings_dict.get("EMBEDDED_PGDATA")
        if pgdata:
            from config.db.embedded import ensure_server

            params["host"] = ensure_server(pgdata, self.settings_dict["NAME"] or "postgres")
        return params
