"""The gate's one statement on PostgreSQL stays within what psycopg caches the parsing of
(profiled: re-parsing a longer statement, or one with more parameters, on every payment was
half the gate's CPU), whatever the movement: the largest is a payment from a wallet with a
device and an IP address, to a new payee, both sides watched."""

from __future__ import annotations

from psycopg import _queries

from tindahan.risk import ruleset
from tindahan.risk.aggregates import Aggregates
from tindahan.risk.engine import spans_of
from tindahan.risk.movement import Kind, Movement
from tindahan.services.ledger import risk_usage


def test_the_largest_statement_and_its_parameters_are_cached_by_psycopg() -> None:
    spans = spans_of(ruleset.default())
    for kind in Kind:
        m = Movement("t1", 1_800_000_000, kind, "par_a", "par_b", 4_900_000, "PHP", "d" * 32, "i")
        rows = risk_usage._rows(m, Aggregates(spans), None)
        watched = risk_usage._watched(m)
        statement = risk_usage._together_sql(True, len(watched), True, True, ("device", "ip"))
        params = risk_usage._together_params(m, rows, watched, spans)
        bound = [name for name in params if f":{name}" in str(statement)]
        assert len(str(statement)) <= _queries.MAX_CACHED_STATEMENT_LENGTH, kind
        assert len(bound) <= _queries.MAX_CACHED_STATEMENT_PARAMS, kind
        assert rows, kind  # however many buckets: one parameter per column
