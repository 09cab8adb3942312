"""Insights for merchants (issue 26): daily demand forecasts per product and their evaluation.

Domain code: plain Python with numpy and pandas, no framework (DESIGN.md). ``sales`` reads and
checks a sales CSV into a dense panel, ``days`` holds the calendar the model knows (weekdays,
paydays, holidays, the Christmas season), ``forecast`` is the model, ``evaluate`` the holdout
against seasonal-naive, ``simulate`` the series with known patterns it is tested on.
"""
