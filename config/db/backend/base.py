"""PostgreSQL backend with two additions.

* Foreign keys carry the ``ON DELETE`` rule of the model field (see ``schema.py``).
* With ``EMBEDDED_PGDATA`` in the database settings, the embedded pgserver is started
  on the first connection, so commands that never touch the database never start it.
* Timestamps are read by psycopg's C loader on UTC connections (see ``timestamps.py``).
"""

import datetime

from django.db.backends.postgresql import base
from django.db.backends.postgresql.client import DatabaseClient as BaseClient

from config.db.backend import timestamps
from config.db.backend.schema import DatabaseSchemaEditor


class DatabaseClient(BaseClient):
    """``manage.py dbshell`` reaches the embedded server over its socket too."""

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        pgdata = settings_dict.get("EMBEDDED_PGDATA")
        if pgdata and not settings_dict.get("HOST"):
            from config.db.embedded import ensure_server

            host = ensure_server(pgdata, settings_dict["NAME"] or "postgres")
            settings_dict = {**settings_dict, "HOST": host, "USER": "postgres"}
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
            params.setdefault("user", "postgres")
        if timestamps.uses_native_loader(self):
            params["context"] = timestamps.adapters_template(params["context"])
            # UTC from the start: the loader takes the session's zone, and Django's
            # SET TIME ZONE on connecting becomes unnecessary.
            params["options"] = " ".join(filter(None, [params.get("options"), "-c TimeZone=UTC"]))
        return params

    @base.async_unsafe
    def create_cursor(self, name=None):
        if not base.is_psycopg3:
            return super().create_cursor(name)
        # Django's version, whose check of the loader's zone reads a ``timezone``
        # attribute that psycopg's loader lacks (it reads the session's zone, UTC).
        if name:
            withhold = self.connection.autocommit
            if self.settings_dict["OPTIONS"].get("server_side_binding") is not True:
                cursor = base.ServerSideCursor(
                    self.connection, name=name, scrollable=False, withhold=withhold
                )
            else:
                cursor = self.connection.cursor(name, scrollable=False, withhold=withhold)
        else:
            cursor = self.connection.cursor()
        # Settings changed since the connection was opened (override_settings(USE_TZ=…)):
        # this cursor reads timestamps Django's way, as Django would.
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
        if self.timezone != getattr(loader, "timezone", datetime.UTC):
            base.register_tzloader(self.timezone, cursor)
        return cursor
