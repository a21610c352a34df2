from django.contrib.admin.apps import AdminConfig


class EnpycoAdminConfig(AdminConfig):
    """django.contrib.admin with the project's site (French branding, throttled login)."""

    default_site = "config.admin_site.EnpycoAdminSite"
