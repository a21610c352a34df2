"""Authentication by email, case-insensitively."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from tenants.demo import is_demo_login


class EmailBackend(ModelBackend):
    """ModelBackend that looks the user up by email through its unique index and
    never accepts the demo password when DEBUG is off."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get("email")
        if email is None or password is None:
            return None
        if not settings.DEBUG and is_demo_login(email, password):
            return None
        return super().authenticate(request, username=email, password=password, **kwargs)
