"""The production posture comes from the environment: with the variables a deployment
sets, ``check --deploy --fail-level WARNING`` passes; with the development defaults it
does not."""

from __future__ import annotations

import secrets

PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "memoires.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
}


def _check(scratch_db, **env):
    import os
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": scratch_db.url(), "PYTHONWARNINGS": "ignore", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def test_production_settings_from_the_environment_pass_the_deploy_check(scratch_db):
    code, output = _check(scratch_db, SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION)
    assert code == 0, output


def test_the_development_defaults_fail_it(scratch_db):
    code, output = _check(scratch_db, DEBUG="false")
    assert code != 0
    for warning in ("security.W004", "security.W008", "security.W009"):
        assert warning in output
