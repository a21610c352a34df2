"""Authentication by email, and permissions from the member's role."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from tenants.demo import is_demo_login
from tenants.roles import permissions_for_role


class EmailBackend(ModelBackend):
    """ModelBackend that looks users up by email (case-insensitively, through the
    unique index), never accepts the demo password when DEBUG is off, and grants
    each company member the permissions of their role."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get("email")
        if email is None or password is None:
            return None
        if not settings.DEBUG and is_demo_login(email, password):
            return None
        return super().authenticate(request, username=email, password=password, **kwargs)

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        perms = set(super().get_group_permissions(user_obj, obj))
        if user_obj.company_id is not None:
            perms |= permissions_for_role(user_obj.role)
        return perms
