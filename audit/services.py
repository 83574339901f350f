"""Writes for audit: sites and link imports. Every function owns its transaction.

CONTRACT (implemented by the loader work; signatures are fixed, other code calls them):

    site_get_or_create(*, domain_or_url: str) -> Site
    link_import_create(*, site: Site, uploaded_file: UploadedFile | File, created_by: User | None,
                       column_mapping: dict[str, str] | None = None,
                       full_snapshot: bool | None = None) -> LinkImport
        Stores the file, reads only its header to detect the format (raises ImportRefused with a
        clear message when the header is unknown and no column_mapping is given), and enqueues
        the background task on commit.
    link_import_run(*, import_id: int) -> LinkImport
        Does the import (called by the django-q2 task and by `manage.py import_links`).
    link_import_cancel(*, link_import: LinkImport) -> None
    link_import_from_semrush_api(*, site: Site, created_by: User | None, limit: int) -> LinkImport
"""
