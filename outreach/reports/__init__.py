"""Manager reports: the conversion funnel, rates and velocity, read from the stage log and the outbox.

``formulas`` states every rate in words (shown on the page, checked by tests), ``selectors``
computes every figure as one SQL aggregate, ``charts`` draws them with ``audit.charts``,
``export`` writes any table as CSV or XLSX, and ``digest`` queues the weekly email.
"""
