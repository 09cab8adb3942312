"""The calendar the demand model knows: weekday, paydays, holidays, the Christmas season.

* **Paydays.** Most Filipino employers pay twice a month, on the 15th and the 30th (the last
  day of February); a sari-sari store sees the money on that day and the next. The payday
  window is therefore the 15th and 16th, and the 30th, 31st and 1st (February's last day and
  1 March too).
* **Holidays.** The regular holidays of RA 9492 from the lending calendar
  (``lending.calendar.philippine_regular_holidays``), the same list that moves loans' due dates.
* **Christmas season.** 1 to 24 December: the 13th-month pay arrives by 24 December (PD 851)
  and the Simbang Gabi nights; a holiday inside it (none in the regular list) counts as a
  holiday.

Each day gets one flag per effect; the model multiplies the effects, so a payday in December
counts both.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from tindahan.lending.calendar import philippine_regular_holidays

PAYDAY_DAYS = frozenset({15, 16, 30, 31, 1})
CHRISTMAS_FIRST = (12, 1)
CHRISTMAS_LAST = (12, 24)


def is_payday(day: date) -> bool:
    """In the payday window: the 15th and 16th, the 30th, 31st and 1st, and February's end."""
    if day.day in PAYDAY_DAYS:
        return True
    return day.month == 2 and (day + timedelta(days=1)).month == 3


def is_christmas_season(day: date) -> bool:
    return day.month == 12 and CHRISTMAS_FIRST[1] <= day.day <= CHRISTMAS_LAST[1]


class Flags:
    """Per-day features of a run of consecutive days starting at ``first``."""

    def __init__(self, first: date, days: int) -> None:
        dates = [first + timedelta(days=i) for i in range(days)]
        holidays: set[date] = set()
        for year in {d.year for d in dates}:
            holidays.update(philippine_regular_holidays(year))
        self.first = first
        self.weekday: npt.NDArray[np.int64] = np.array([d.weekday() for d in dates], np.int64)
        self.payday = np.array([is_payday(d) for d in dates], bool)
        self.holiday = np.array([d in holidays for d in dates], bool)
        self.christmas = np.array([is_christmas_season(d) for d in dates], bool)
