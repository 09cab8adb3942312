"""Credit scoring from a merchant's own sales (issue 6).

``events`` is the contract between where history comes from (the database, or the
simulator's memory) and ``features``; ``dataset`` reads any tabular CSV for the generic
CLI; ``scorecard`` and ``gbm`` are the two models behind ``model``'s interface;
``metrics``, ``artifact``, ``card`` and ``drift`` are the model's life cycle; ``simulate``
makes populations of Philippine merchants with a known ground truth.

Domain code: it imports numerical libraries (numpy, pandas, scikit-learn, LightGBM,
optbinning) but no web or database framework.
"""
