from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.utils.translation import gettext_lazy as _

from tenants import rls
from tenants.models import User


class _EmailNormalisation:
    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip().lower()
        others = User.objects.alias_email().filter(email_lower=email)
        if not self.instance._state.adding:
            others = others.exclude(pk=self.instance.pk)
        with rls.every_company():  # the address is unique across companies
            taken = others.exists()
        if taken:
            # The same answer whoever holds the address (another company's member, a
            # platform operator, a colleague): it tells nobody which.
            raise forms.ValidationError(
                _("This email address cannot be used: choose another one."), code="unavailable"
            )
        return email


class UserCreationForm(_EmailNormalisation, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserChangeForm(_EmailNormalisation, DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
