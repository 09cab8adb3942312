"""Issue 25, item 3's figures, without a database: on-time rates by courier and zone, and the
heat map the traffic picture is drawn with."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tindahan.delivery import ontime
from tindahan.delivery.zones import Zone
from tindahan.web import charts


def test_on_time_rates_by_courier_and_zone():
    day = 86_400
    parcels = [
        ontime.Delivered("lbc", Zone.LUZON, 10 * day, 9 * day),
        ontime.Delivered("jnt", Zone.LUZON, 10 * day, 10 * day),  # on the promised moment
        ontime.Delivered("jnt", Zone.METRO_MANILA, 3 * day, 2 * day),
        ontime.Delivered("jnt", Zone.METRO_MANILA, 3 * day, 3 * day + 1),  # a moment late
        ontime.Delivered("jnt", Zone.METRO_MANILA, 3 * day, 4 * day),
    ]
    found = ontime.rates(parcels)
    assert [(r.courier, r.zone, r.delivered, r.on_time) for r in found] == [
        ("jnt", Zone.METRO_MANILA, 3, 1),  # the zones nearest first
        ("jnt", Zone.LUZON, 1, 1),
        ("lbc", Zone.LUZON, 1, 1),
    ]
    assert found[0].rate == Decimal(1) / Decimal(3)
    assert ontime.rates([]) == []


def test_the_heat_map_shades_by_value():
    grid = charts.grid([("Mon", [0, 5, 10, 20]), ("Tue", [20, 15, 0, 1])], ["0", "1", "2", "3"])
    levels = [[c.level for c in cells] for _, cells in grid.rows]
    assert levels == [[0, 1, 2, 4], [4, 3, 0, 0]]  # value × 4 // top, rounded down
    assert (
        grid.top == 20
        and len(grid.ticks) == 4
        and [t for _, t in grid.row_ticks]
        == [
            "Mon",
            "Tue",
        ]
    )
    first, second = grid.rows[0][1][:2]
    assert second.x - first.x == first.width + 1 and first.x == charts.ROW_LABEL_ROOM
    assert grid.width <= 360 and charts.grid([], []).empty
    flat = charts.grid([("Mon", [0, 0])], ["a", "b"])
    assert [c.level for c in flat.rows[0][1]] == [0, 0]
    with pytest.raises(ValueError, match="row Mon has 1 values for 2 columns"):
        charts.grid([("Mon", [1])], ["a", "b"])
