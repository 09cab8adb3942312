"""One error type for everything insights refuse: a bad sales file, a bad option. The message
is the whole story, for the person at the terminal; the CLI prints it on one line and exits 2.
"""

from __future__ import annotations


class InsightsError(ValueError):
    """A clear, specific refusal; nothing was written."""
