"""One error type for everything credit refuses: bad data, bad options, a model folder it
cannot read. The message is the whole story, written for the person at the terminal or the
API client; the CLI prints it on one line and exits 2."""

from __future__ import annotations


class CreditError(ValueError):
    """A clear, specific refusal; nothing was written."""
