"""django-q2 entry points for audit: take ids, call one service."""

from __future__ import annotations

from audit.services import link_import_run


def link_import_run_task(import_id: int) -> str:
    """Runs a queued link import; the outcome lives on the LinkImport row, returned as its status."""
    return link_import_run(import_id=import_id).status


def toxicity_run_task(run_id: int) -> str:
    """Scores a site's links for a queued ToxicityRun; returns the run's final status."""
    from audit.toxicity import toxicity_run

    return toxicity_run(run_id=run_id).status


def link_import_files_prune_task() -> int:
    """Daily: frees the disk space of finished imports' uploaded files and of uploads abandoned
    at the column-mapping step; returns how many files were deleted."""
    from audit.retention import link_import_files_prune, pending_uploads_prune

    return link_import_files_prune() + pending_uploads_prune()
