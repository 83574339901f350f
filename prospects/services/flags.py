"""Flagging a prospect for a person's attention (a hard bounce, a lost link, …)."""

from __future__ import annotations

from prospects.models import Prospect


def prospect_flag(*, prospect_id: int, reason: str) -> bool:
    """Flag a prospect with a short reason shown on the board; True if it was not flagged yet."""
    return bool(
        Prospect.objects.filter(pk=prospect_id, flagged=False).update(flagged=True, flag_reason=reason[:200])
    )


def prospect_unflag(*, prospect_id: int) -> bool:
    """Clear a prospect's flag; True if it was flagged."""
    return bool(Prospect.objects.filter(pk=prospect_id, flagged=True).update(flagged=False, flag_reason=""))
