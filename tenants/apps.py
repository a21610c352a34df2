from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Companies and users")

    def ready(self) -> None:
        from tenants.checks import check_demo_passwords

        # Deployment only: the demo accounts are expected on a development database.
        checks.register(check_demo_passwords, checks.Tags.security, deploy=True)
