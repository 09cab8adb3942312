"""A TigerBeetle cluster for the tests that need one, or a skip naming how to build it.

A cluster starts in seconds but formats about 1 GiB per replica and holds about 2 GiB of
memory each, so each module shares one (``cluster`` fixture, one replica), on free loopback
ports in a temporary folder, stopped and deleted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tindahan.tigerbeetle import cluster as cluster_module
from tindahan.tigerbeetle.address import ClusterAddress
from tindahan.tigerbeetle.server import HOW_TO_BUILD, find_binary

#: Small: the tests move little money, and three replicas share the machine with the suite.
TEST_CACHE_GRID = "64MiB"


def need_binary() -> None:
    if find_binary() is None:
        pytest.skip(f"no tigerbeetle server binary: {HOW_TO_BUILD}")


def _cluster(folder: Path, replicas: int) -> Iterator[ClusterAddress]:
    need_binary()
    address = cluster_module.up(folder, replicas=replicas, cache_grid=TEST_CACHE_GRID)
    try:
        yield address
    finally:
        cluster_module.down(folder, purge=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterAddress]:
    yield from _cluster(tmp_path_factory.mktemp("tb1"), 1)
