"""Installs Django admin with LinkCRM's role-checked site (kept import-light for app loading)."""

from django.contrib.admin.apps import AdminConfig


class LinkCRMAdminConfig(AdminConfig):
    default_site = "linkcrm.admin_site.LinkCRMAdminSite"
