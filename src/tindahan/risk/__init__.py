"""Risk and compliance: AML and fraud rules over money movements, and name screening.

The domain only: plain Python, no framework, no database. A movement (``movement``) is
judged by a rule set (``ruleset``, loaded from a TOML file and validated) through an
``engine`` that keeps the running aggregates each rule reads (``aggregates``) and calls
each rule (``checks``) as a function of its parameters, the movement and those aggregates.
Every movement gets one decision — allow, review or block — with the rules that tripped
and the values that tripped them. ``events`` reads a CSV of movements for ``tindahan risk
evaluate``; ``typologies`` generates labelled traffic to measure the rules on.
"""
