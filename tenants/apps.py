from django.apps import AppConfig
from django.core import checks
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Companies and users")

    def ready(self) -> None:
        from tenants.checks import check_demo_passwords
        from tenants.db_roles import grant_application_role, mark_leakproof
        from tenants.rls import on_connection_created

        # Deployment only: the demo accounts are expected on a development database.
        checks.register(check_demo_passwords, checks.Tags.security, deploy=True)
        connection_created.connect(on_connection_created, dispatch_uid="tenants_rls_session")
        post_migrate.connect(grant_application_role, sender=self, dispatch_uid="tenants_grants")
        post_migrate.connect(mark_leakproof, sender=self, dispatch_uid="tenants_leakproof")
