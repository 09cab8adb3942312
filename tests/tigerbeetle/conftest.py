"""A TigerBeetle cluster for the tests that need one, or a skip naming how to build it.

A cluster formats about 1 GiB per replica (0.1 s: the file is allocated, not written) and
locks about 1.8 GiB of memory each, so each module shares one (``cluster`` fixture, one
replica), on free loopback ports in a temporary folder, stopped and deleted afterwards. Test
clusters start light (``cluster.LIGHT_OPTIONS``: TigerBeetle's development caches, production's
request size): a default replica locks 2.1 GB at start, 5–8 s of CPU each, and the suite
starts about thirty.

A journey through a channel (web pages, the USSD menu) on a cluster is marked
``one_database`` and runs on SQLite only: what differs between the databases is in the
services' two-store order, whose own tests here run on both; the journey adds the channel's
pages and sessions, which are the same Python on either. Each PostgreSQL run of a journey
cost the TigerBeetle worker's serial share seconds (the USSD module's 30 alone a minute).

A crash-point matrix (``@pytest.mark.parametrize("step", two_store.STEPS)``, or a
cash-out request's ``CASH_OUT_STEPS["request"]``) runs every step on SQLite and, on
PostgreSQL, the steps ``POSTGRES_STEPS`` names for its list (deselected, counted): "holds",
"posts" and "C" of the six, "holds" and "B" of a request's four. Recovery is the same Python
on either database (``two_store.advance``); what the dialect changes is in the statements
each of its branches runs, and these steps run every branch's: "holds" the ``reserving``
branch (B's mark, the posts, C's settlement), "posts" the ``reserved`` one with its posts
found (C's settlement alone), "C" the finished order's replayed answer; a request's "holds"
its ``held`` mark and "B" the waiting request's answer. The steps left out on PostgreSQL
run the same statements ("A" as "holds", with one cluster booking more; "B" as "posts", with
the posts booked by recovery; "inside A" rolls A back, the database's own transaction). A
module whose whole matrix must run on both (``test_payments.py``, the order's reference,
whose table the README gives row by row) is marked ``every_step``. A hand-picked list of
steps (the cash-out's confirmation and cancel, a recovery's crash) runs whole on both.

The modules sharing a cluster per module, or a deployment, carry one of two xdist groups,
"tigerbeetle-a" and "tigerbeetle-b", split by their measured time so each worker runs about
half, one module after another. One group for all (until 2026-12-08) made it one worker's
serial share: with the night's ports it grew to the run's tail (pytest 16 min 55 s at
18f5e2e, the other worker idle for minutes); a group per module was slower still at the
time (README "Testing"). A module whose cluster is its own test's (the drill, the seed, the
CLI's ``up``) stays out of the groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tigerbeetle.images import TEST_CACHE_GRID as TEST_CACHE_GRID  # tests import it here
from tests.tigerbeetle.images import Images
from tindahan.services.payments import two_store
from tindahan.tigerbeetle import cluster as cluster_module
from tindahan.tigerbeetle.address import ClusterAddress
from tindahan.tigerbeetle.server import HOW_TO_BUILD, find_binary

#: The crash points a matrix over each list runs on PostgreSQL (module docstring).
POSTGRES_STEPS: dict[tuple[str, ...], frozenset[str]] = {
    two_store.STEPS: frozenset({"holds", "posts", "C"}),
    two_store.CASH_OUT_STEPS["request"]: frozenset({"holds", "B"}),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the PostgreSQL runs of the ``one_database`` journeys, and of the crash
    matrices' steps ``POSTGRES_STEPS`` does not name (deselected, counted)."""
    left_out = [item for item in items if _postgres_journey(item) or _postgres_step(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        dropped = set(left_out)
        items[:] = [item for item in items if item not in dropped]


def _on_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("deployment") == "postgres"


def _postgres_journey(item: pytest.Item) -> bool:
    return item.get_closest_marker("one_database") is not None and _on_postgres(item)


def _postgres_step(item: pytest.Item) -> bool:
    """A crash point of a matrix over a whole step list that PostgreSQL leaves to SQLite."""
    if not _on_postgres(item) or item.get_closest_marker("every_step") is not None:
        return False
    step = item.callspec.params.get("step")  # type: ignore[attr-defined]
    for mark in item.iter_markers("parametrize"):
        if mark.args and mark.args[0] == "step":
            kept = POSTGRES_STEPS.get(tuple(mark.args[1]))
            return kept is not None and step not in kept
    return False


def need_binary() -> None:
    if find_binary() is None:
        pytest.skip(f"no tigerbeetle server binary: {HOW_TO_BUILD}")


def _cluster(folder: Path, replicas: int) -> Iterator[ClusterAddress]:
    need_binary()
    address = cluster_module.up(folder, replicas=replicas, cache_grid=TEST_CACHE_GRID, light=True)
    try:
        yield address
    finally:
        cluster_module.down(folder, purge=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterAddress]:
    yield from _cluster(tmp_path_factory.mktemp("tb1"), 1)


@pytest.fixture(scope="session")
def deployment_images(request, tmp_path_factory, shared_server) -> Iterator[Images]:
    """The worker's TigerBeetle deployments, built once per database kind and copied for
    each module's ``deployment`` (tests/tigerbeetle/images.py)."""
    images = Images(tmp_path_factory.mktemp("tbimages"), request, shared_server)
    try:
        yield images
    finally:
        images.remove()
