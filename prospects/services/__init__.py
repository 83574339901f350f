"""Writes for prospects, one module per job. Import from the module, not from this package.

- ``projects``: projects, members, competitors, target pages, brand terms, score weights.
- ``creation``: ``prospects_create(*, project, domains, source, created_by, assignee=None,
  pipeline=PipelineKind.ACQUISITION) -> CreationResult`` — set-based (50k at once), one prospect
  per registrable domain per project; duplicates merged and reported; suppressed domains
  refused and reported. ``CreationResult`` has ``created`` (count), ``created_ids``,
  ``duplicates`` (domains), ``suppressed`` (domains), ``invalid`` ([(value, why)]).
- ``pipeline``: ``prospect_move_stage(*, prospect_id, to_stage, expected_from=None, actor=None,
  automation="", reason="", reject_reason="", event_at=None) -> StageChange | None`` — the only
  writer of ``Prospect.stage``: a guarded ``UPDATE … WHERE stage = <expected>`` and a
  StageChange row in one transaction. People may move anywhere (raises ``StageConflict`` when
  the prospect moved meanwhile); automation (``automation`` set, ``actor`` None) only moves
  forward and returns None instead of overriding a person's later move (``person_moved_at`` >
  ``event_at``). Also assignment, bulk move/assign, notes, reminders.
- ``scoring``: ``prospects_rescore(*, project, prospect_ids=None)`` set-based, weights from
  ``Project.score_weights``, breakdown stored in ``Prospect.score_breakdown``.
- ``contacts``: ``contact_add(...)``, discovery (through ``linkcrm.lib.safehttp``), email checks.
- ``suppression``: do-not-contact. ``suppression_add(...)``, ``suppression_match(*, project,
  email=None, domain=None) -> Suppression | None`` — outreach calls this at enrollment and at
  send time.
"""
