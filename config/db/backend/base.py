"""PostgreSQL backend with two additions.

* Foreign keys carry the ``ON DELETE`` rule of the model field (see ``schema.py``).
* With ``EMBEDDED_PGDATA`` in the database settings, the embedded pgserver is started
  on the first connection, so commands that never touch the database never start it.
"""

from django.db.backends.postgresql import base

from config.db.backend.schema import DatabaseSchemaEditor


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor

    def get_connection_params(self):
        params = super().get_connection_params()
        pgdata = self.settings_dict.get("EMBEDDED_PGDATA")
        if pgdata:
            from config.db.embedded import ensure_server

            params["host"] = ensure_server(pgdata, self.settings_dict["NAME"] or "postgres")
            params.setdefault("user", "postgres")
        return params
