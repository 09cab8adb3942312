"""The one error of the risk domain: input (a rules file, a CSV, a list) that was refused.

The message names the line and the field, so the person who wrote the file can fix it; the
caller prints it in one line and changes nothing.
"""

from __future__ import annotations


class RiskInputError(ValueError):
    """A rules file, events file or list that is not what it must be."""
