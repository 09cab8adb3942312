"""A small merchant model for tests, trained the way the platform's is: simulate a
population, compute its features as of a date, learn the defaults that came after."""

from __future__ import annotations

import warnings
from pathlib import Path

from tindahan.credit import artifact
from tindahan.services.credit import assessments as credit_service


def train_merchant_model(folder: Path, merchants: int = 600) -> artifact.Loaded:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        credit_service.train_default_model(folder, merchants=merchants, seed=3)
    return artifact.load(folder)
