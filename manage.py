#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

#: Commands that serve requests or run jobs: their connections read no company's data
#: until a request or a job says whose (tenants/rls.py). Every other command is an
#: operator's, and reads every company's.
SERVING = {"runserver", "procrastinate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if len(sys.argv) > 1 and sys.argv[1] not in SERVING:
        os.environ.setdefault("DB_SESSION_CONTEXT", "platform")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
