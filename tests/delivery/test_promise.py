"""Issue 25, items 2, 4 and 5: the shipment simulator, the history CSV and its refusals,
the learned 80% window's coverage against the zone-median baseline, and ``tindahan
delivery simulate`` / ``evaluate``."""

from __future__ import annotations

import csv
import io
import json
import statistics
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tindahan.cli.app import app
from tindahan.delivery import history, promise, simulate, traffic
from tindahan.delivery.zones import Zone
from tindahan.kernel.refusals import RefusalError
from tindahan.lending.calendar import PH_TIME

runner = CliRunner()


@pytest.fixture(scope="module")
def simulated() -> simulate.Simulation:
    return simulate.simulate(3_000, seed=11, days=150)


def test_the_calendar_rules():
    monday_rush = datetime(2025, 9, 8, 17, 30, tzinfo=PH_TIME)
    assert traffic.is_rush_hour(monday_rush) and traffic.is_coding(monday_rush)
    assert not traffic.is_coding(monday_rush, {date(2025, 9, 8)})  # a holiday: no coding
    sunday = datetime(2025, 9, 7, 17, 30, tzinfo=PH_TIME)
    assert not traffic.is_rush_hour(sunday) and not traffic.is_coding(sunday)
    assert not traffic.is_coding(datetime(2025, 9, 8, 10, 0, tzinfo=PH_TIME))
    # the same moment given in UTC is read in Philippine time
    assert traffic.is_rush_hour(monday_rush.astimezone(UTC))
    assert [traffic.is_payday(date(2025, 2, d)) for d in (14, 15, 16, 17, 27, 28)] == [
        False,
        True,
        True,
        False,
        False,
        True,
    ]
    assert traffic.is_payday(date(2025, 3, 1))  # the day after February's last
    assert traffic.is_payday(date(2025, 1, 31)) and not traffic.is_payday(date(2025, 1, 29))
    assert traffic.is_christmas_season(date(2025, 12, 1))
    assert traffic.is_christmas_season(date(2026, 1, 6))
    assert not traffic.is_christmas_season(date(2026, 1, 7))


def test_the_simulator_is_seeded_and_consistent(simulated: simulate.Simulation):
    again = simulate.simulate(3_000, seed=11, days=150)
    assert again.shipments == simulated.shipments
    other = simulate.simulate(50, seed=12, days=150)
    assert other.shipments[:5] != simulated.shipments[:5]
    couriers = {s.courier for s in simulated.shipments}
    assert couriers == {"jnt", "lbc", "flash"}
    for s in simulated.shipments:
        assert s.picked_up_at < (s.in_transit_at or s.delivered_at) < s.delivered_at
        assert 8 <= s.delivered_at.hour < 20
        assert s.delivered_at.date() not in simulated.holidays
    pickups = [s.picked_up_at for s in simulated.shipments]
    assert pickups == sorted(pickups)


def test_the_simulated_effects_show(simulated: simulate.Simulation):
    """The typhoon week slows parcels to its provinces; flash is slower than jnt."""
    storm = min(next(iter(simulated.advisories.days.values())))
    week = {storm + timedelta(days=i) for i in range(7)}
    places = promise.Places()

    def stormy(s: history.Shipment) -> bool:
        areas = {simulate.area_of(places.codes(c)) for c in (s.origin, s.destination)}
        return bool(areas & set(simulated.advisories.days)) and s.picked_up_at.date() in week

    hit = [s.hours for s in simulated.shipments if stormy(s)]
    near = [
        s.hours
        for s in simulated.shipments
        if not stormy(s)
        and abs((s.picked_up_at.date() - storm).days) < 30
        and s.destination.startswith("13")
        and s.origin.startswith("13")
    ]
    assert statistics.median(hit) > statistics.median(near) + 24
    by = {
        c: statistics.median(s.hours for s in simulated.shipments if s.courier == c)
        for c in ("jnt", "flash")
    }
    assert by["flash"] > by["jnt"]


def test_the_window_is_calibrated_and_beats_the_baseline(simulated: simulate.Simulation):
    calendar = promise.Calendar(simulated.holidays, simulated.advisories)
    result = promise.evaluate(simulated.shipments, calendar, seed=3, rounds=60)
    assert result.n_test == 600
    assert 0.72 <= result.coverage_80 <= 0.9
    assert result.mae_hours < result.baseline_mae_hours
    assert (result.low <= result.predicted).all() and (result.predicted <= result.high).all()
    # the test shipments are the latest by pickup
    latest_train = max(s.picked_up_at for s in simulated.shipments[: result.n_train])
    assert all(s.picked_up_at >= latest_train for s in result.test)


def test_a_courier_zone_without_history_has_no_learned_window(simulated: simulate.Simulation):
    calendar = promise.Calendar(simulated.holidays, simulated.advisories)
    model = promise.fit(simulated.shipments[:400], calendar, rounds=20)
    assert model.has_history("jnt", Zone.METRO_MANILA)
    assert not model.has_history("jnt", Zone.VISAYAS)
    assert not model.has_history("ninjavan", Zone.METRO_MANILA)


GOOD = (
    "shipment_id,courier,origin_psgc,destination_psgc,picked_up_at,delivered_at,weight_g\n"
    "s1,jnt,1380700005,1381300001,2025-09-01T09:00:00+08:00,2025-09-02T10:00:00+08:00,500\n"
)


def _read(text: str) -> list[history.Shipment]:
    return history.read_csv(io.StringIO(text))


def test_the_history_csv_round_trips(simulated: simulate.Simulation):
    out = io.StringIO()
    history.write_csv(simulated.shipments[:20], out)
    back = _read(out.getvalue())
    assert [(s.shipment_id, s.hours, s.weight_g) for s in back] == [
        (s.shipment_id, s.hours, s.weight_g) for s in simulated.shipments[:20]
    ]
    (one,) = _read(GOOD)
    assert one.hours == 25.0 and one.destination == "1381300001"


def _row_with(**changes: str) -> str:
    header, row = GOOD.splitlines()
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    cells.update(changes)
    return header + "\n" + ",".join(cells.values()) + "\n"


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"destination_psgc": "1399999999"}, "row 2, destination_psgc"),
        ({"origin_psgc": "13807"}, "row 2, origin_psgc"),
        ({"delivered_at": "2025-09-01T08:00:00+08:00"}, "row 2, delivered_at"),
        ({"picked_up_at": "2025-09-01T09:00:00"}, "row 2, picked_up_at"),
        ({"weight_g": "0"}, "row 2, weight_g"),
        ({"weight_g": "900000"}, "row 2, weight_g"),
        ({"courier": "J&T"}, "row 2, courier"),
    ],
)
def test_a_bad_row_is_named(changes: dict[str, str], where: str):
    with pytest.raises(RefusalError) as refused:
        _read(_row_with(**changes))
    assert refused.value.message.startswith(where)


def test_a_bad_file_is_named():
    with pytest.raises(RefusalError, match=r"lacks the column.*weight_g"):
        _read(GOOD.replace(",weight_g", ""))
    with pytest.raises(RefusalError, match="row 3, shipment_id: s1 appears twice"):
        _read(GOOD + GOOD.splitlines()[1] + "\n")
    with pytest.raises(RefusalError, match="no shipments"):
        _read(GOOD.splitlines()[0] + "\n")


def test_simulate_then_evaluate_on_the_command_line(tmp_path: Path):
    events, storms = tmp_path / "events.csv", tmp_path / "storms.csv"
    made = runner.invoke(
        app,
        [
            "delivery",
            "simulate",
            "--count",
            "800",
            "--seed",
            "5",
            "--out",
            str(events),
            "--advisories-out",
            str(storms),
        ],
    )
    assert made.exit_code == 0, made.output
    assert "800 shipments" in made.output
    with events.open() as f:
        assert next(csv.reader(f)) == list(history.COLUMNS)
    predictions = tmp_path / "predictions.csv"
    found = runner.invoke(
        app,
        [
            "delivery",
            "evaluate",
            "--events",
            str(events),
            "--json",
            "--predictions",
            str(predictions),
            "--advisories",
            str(storms),
        ],
    )
    assert found.exit_code == 0, found.output
    report = json.loads(found.output)
    assert set(report) == {
        "mae_hours",
        "baseline_mae_hours",
        "coverage_80",
        "mean_width_hours",
        "n_test",
    }
    assert report["n_test"] == 160
    with predictions.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["shipment_id", "predicted_hours", "low_hours", "high_hours"]
    assert len(rows) == 161
    assert all(float(r[2]) <= float(r[1]) <= float(r[3]) for r in rows[1:])

    lines = events.read_text().splitlines()
    lines[7] = lines[7].replace(lines[7].split(",")[-1], "0")
    events.write_text("\n".join(lines) + "\n")
    bad = runner.invoke(app, ["delivery", "evaluate", "--events", str(events)])
    assert bad.exit_code == 2
    assert "row 8, weight_g" in bad.output
    missing = runner.invoke(app, ["delivery", "evaluate", "--events", str(tmp_path / "no.csv")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_the_conformal_step_widens_the_band_to_80_percent(simulated: simulate.Simulation):
    """On the calibration shipments (the latest fifth of the training ones) the corrected
    band holds at least 80%, and only just: the correction is what makes it so."""
    calendar = promise.Calendar(simulated.holidays, simulated.advisories)
    train = simulated.shipments[:1_500]
    model = promise.fit(train, calendar, seed=1, rounds=40)
    tail = train[len(train) - int(len(train) * promise.CALIBRATION_SHARE) :]
    actual = [s.hours for s in tail]
    _, low, high = model.predict(tail, calendar)
    inside = sum(lo <= y <= hi for y, lo, hi in zip(actual, low, high, strict=True))
    assert 0.8 <= inside / len(tail) <= 0.81
    model.correction = 0.0
    _, low, high = model.predict(tail, calendar)
    bare = sum(lo <= y <= hi for y, lo, hi in zip(actual, low, high, strict=True))
    assert bare != inside


def test_the_traffic_picture_shows_what_the_model_learned(simulated: simulate.Simulation):
    """A week by hour of Metro Manila trips: seven days of 24 hours, in an ordinary week,
    slower for a parcel picked up in the weekday evening rush than at weekday noon."""
    calendar = promise.Calendar(simulated.holidays, simulated.advisories)
    model = promise.fit(simulated.shipments, calendar, rounds=40)
    trips = [
        (s.origin, s.destination)
        for s in simulated.shipments
        if model.zone_of(s) is Zone.METRO_MANILA
    ][:6]
    monday = traffic.ordinary_week(date(2025, 12, 20), calendar.holidays)
    assert monday == date(2026, 1, 19)  # past Christmas (to 6 January) and the 15th-16th
    hours = promise.traffic_picture(model, calendar, trips, ["jnt", "lbc"], monday)
    assert len(hours) == 7 and all(len(day) == 24 for day in hours)
    weekdays = range(5)
    evening = statistics.mean(hours[d][h] for d in weekdays for h in (17, 18, 19))
    noon = statistics.mean(hours[d][h] for d in weekdays for h in (11, 12, 13))
    assert evening > noon
    with pytest.raises(ValueError):
        promise.traffic_picture(model, calendar, [], ["jnt"], monday)
