"""The TigerBeetle deployment, built once per worker and database kind, copied per module.

Why: eleven modules share ``test_payments``'s module-scoped ``deployment``, each per database
kind, and each built it from nothing: a migrated database, the barangay made through the API
(parties, keys, fundings), a one-replica cluster formatted and started, the migration to it.
Now the worker builds that once per database kind (an *image*: the database after the
migration, and the data file of the cluster, stopped) and each module gets copies of both:
the database (SQLite: the file; PostgreSQL: a pool of databases put back to the image's rows,
tests/databases.py) and the data file (sparse: about 1 GiB long, nearly all holes), on which
a replica starts on fresh loopback ports. A module still sees only its own money, the same
parties, keys, operator key and balances as when it built them itself.

The replica's addresses are not in its data file (``tigerbeetle start --addresses``), so the
copy is a cluster of its own once its ``cluster.json`` names new ports; ``cluster.up`` then
starts it as it restarts any stopped cluster.
"""

from __future__ import annotations

import base64
import copy
import errno
import fcntl
import json
import os
import secrets
import shutil
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.api.conftest import TEST_DATA_KEY, Api, Party, build_world
from tests.conftest import postgres_available
from tests.databases import Pool
from tests.servers import Shared, free_port
from tests.snapshots import Snapshots
from tindahan.api.app import create_app
from tindahan.services.ledger import migration
from tindahan.services.platform import chart, keys
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.store.vault import Vault
from tindahan.tigerbeetle import cluster as cluster_module
from tindahan.tigerbeetle.address import ClusterAddress
from tindahan.tigerbeetle.ledger import TigerBeetleLedger

#: Small: the tests move little money, and three replicas share the machine with the suite.
TEST_CACHE_GRID = "64MiB"
#: The image's cluster id, as ``cluster.up``'s default gave each module's before.
CLUSTER_ID = 0


@dataclass(frozen=True)
class Image:
    """One database kind's deployment, stopped: what each module's copy starts from."""

    kind: str
    sqlite: Path | None  # the database file (SQLite)
    pool: Pool | None  # copies of the image's database (PostgreSQL)
    postgres_url: Callable[[str], str] | None  # a PostgreSQL database's URL by its name
    data_file: Path  # the stopped replica's data file
    operator: str
    parties: tuple[Party, ...]  # merchant, buyer, other buyer, agent

    def database(self, folder: Path) -> Iterator[str]:
        """A copy of the image's database for one module: yields its URL, then gives it back."""
        if self.sqlite is not None:
            target = folder / "tindahan.db"
            shutil.copyfile(self.sqlite, target)
            yield f"sqlite:///{target}"
            return
        assert self.pool is not None and self.postgres_url is not None
        name = self.pool.take()
        try:
            yield self.postgres_url(name)
        finally:
            self.pool.give(name)

    def cluster(self, folder: Path) -> Iterator[ClusterAddress]:
        """A replica on a copy of the image's data file, on a free loopback port; stopped and
        its folder deleted afterwards."""
        folder.mkdir(parents=True)
        copy_sparse(self.data_file, cluster_module.data_file(folder, CLUSTER_ID, 0))
        state = {"cluster_id": CLUSTER_ID, "addresses": [f"127.0.0.1:{free_port()}"]}
        (folder / cluster_module.STATE).write_text(json.dumps(state) + "\n")
        try:
            yield cluster_module.up(folder, cache_grid=TEST_CACHE_GRID, light=True)
        finally:
            cluster_module.down(folder, purge=True)

    def parties_copy(self) -> tuple[Party, ...]:
        return copy.deepcopy(self.parties)


def _end_connections(store: Snapshots, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(store.admin(), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )


def copy_sparse(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` with only its written extents written: a formatted
    data file is about 1 GiB long and allocated (``fallocate``: "unwritten" extents, read as
    zeros), of which a few MiB were ever written. SEEK_DATA counts unwritten extents as data
    on ext4, so the extents come from FIEMAP; the rest of the copy is holes, read as zeros
    too. Where FIEMAP is missing, the SEEK_DATA ranges are copied whole."""
    size = source.stat().st_size
    with source.open("rb") as src, target.open("xb") as dst:
        try:
            extents = _written_extents(src.fileno())
        except OSError:
            extents = _data_ranges(src.fileno(), size)
        for start, length in extents:
            end = min(start + length, size)
            while start < end:
                done = os.copy_file_range(src.fileno(), dst.fileno(), end - start, start, start)
                if done == 0:
                    raise OSError(f"{source} ended at {start} while copying it")
                start += done
        os.ftruncate(dst.fileno(), size)


_FS_IOC_FIEMAP = 0xC020660B
_FIEMAP_FLAG_SYNC = 0x1
_FIEMAP_EXTENT_LAST = 0x1
_FIEMAP_EXTENT_UNWRITTEN = 0x800
_FIEMAP_HEAD = struct.Struct("=QQLLLL")  # start, length, flags, mapped, count, reserved
_FIEMAP_EXTENT = struct.Struct("=QQQQQLLLL")  # logical, physical, length, 2 reserved, flags…
_FIEMAP_BATCH = 512


def _written_extents(fd: int) -> list[tuple[int, int]]:
    """(offset, length) of the file's extents that hold written data (FS_IOC_FIEMAP)."""
    found: list[tuple[int, int]] = []
    offset = 0
    while True:
        request = bytearray(_FIEMAP_HEAD.size + _FIEMAP_BATCH * _FIEMAP_EXTENT.size)
        _FIEMAP_HEAD.pack_into(
            request, 0, offset, 2**64 - 1 - offset, _FIEMAP_FLAG_SYNC, 0, _FIEMAP_BATCH, 0
        )
        fcntl.ioctl(fd, _FS_IOC_FIEMAP, request)
        mapped = _FIEMAP_HEAD.unpack_from(request, 0)[3]
        if mapped == 0:
            return found
        for i in range(mapped):
            at = _FIEMAP_HEAD.size + i * _FIEMAP_EXTENT.size
            logical, _, length, _, _, flags, *_ = _FIEMAP_EXTENT.unpack_from(request, at)
            if not flags & _FIEMAP_EXTENT_UNWRITTEN:
                found.append((logical, length))
            offset = logical + length
            if flags & _FIEMAP_EXTENT_LAST:
                return found


def _data_ranges(fd: int, size: int) -> list[tuple[int, int]]:
    """(offset, length) of the file's data between its holes (SEEK_DATA / SEEK_HOLE)."""
    found: list[tuple[int, int]] = []
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # nothing but a hole left
                return found
            raise
        offset = os.lseek(fd, start, os.SEEK_HOLE)
        found.append((start, offset - start))
    return found


class Images:
    """The worker's images, built when a module first asks for its database kind's."""

    def __init__(self, folder: Path, request: pytest.FixtureRequest, shared_server: Shared) -> None:
        self.folder = folder
        self.request = request  # the session fixture's: session-scoped fixtures by name
        self.shared_server = shared_server
        self.built: dict[str, Image] = {}

    def get(self, kind: str) -> Image:
        if kind not in self.built:
            self.built[kind] = self._build(kind)
        return self.built[kind]

    def _build(self, kind: str) -> Image:
        folder = self.folder / kind
        folder.mkdir()
        sqlite: Path | None = None
        pool: Pool | None = None
        postgres_url: Callable[[str], str] | None = None
        if kind == "sqlite":
            sqlite = folder / "image.db"
            shutil.copyfile(self.request.getfixturevalue("sqlite_template"), sqlite)
            url = f"sqlite:///{sqlite}"
        else:
            reason = postgres_available()
            if reason:
                pytest.skip(reason)
            store: Snapshots = self.request.getfixturevalue("snapshot_store")
            assert store.pools is not None and store.postgres_template is not None
            name = f"tindahan_tbimg_{secrets.token_hex(4)}"
            with psycopg.connect(store.admin(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{store.postgres_template}"')
            pool = Pool(store.admin, store.conninfo, name)
            store.pools[("tigerbeetle-image", name)] = pool  # dropped with the others
            postgres_url = store.url
            url = store.url(name)
        where = folder / "cluster"
        address = cluster_module.up(where, cache_grid=TEST_CACHE_GRID, light=True)
        try:
            operator, parties = self._fill(url, address.url)
        except BaseException:
            cluster_module.down(where, purge=True)
            raise
        cluster_module.down(where)  # stopped: its data file is the image's
        if sqlite is not None:  # the last connection closed checkpointed the WAL
            assert not sqlite.with_name(sqlite.name + "-wal").exists()
        else:  # no connection may be left on a template
            _end_connections(self.request.getfixturevalue("snapshot_store"), url)
        data_file = cluster_module.data_file(where.resolve(), CLUSTER_ID, 0)
        return Image(kind, sqlite, pool, postgres_url, data_file, operator, parties)

    def _fill(self, url: str, cluster_url: str) -> tuple[str, tuple[Party, ...]]:
        """The barangay funded on the SQL ledger and moved to the cluster, as the
        deployment did in each module before."""
        db = connect(url)
        tb = TigerBeetleLedger.connect(cluster_url)
        try:
            sql = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
            chart.ensure_operator_accounts(sql)
            keys.set_environment(sql, "test")
            operator = sql.run(lambda u: keys.create(u, None, party_id=None))[1]
            with self.shared_server.serving(create_app(sql)) as base:
                api = Api(base)
                try:
                    world = build_world(api, operator)  # funded on the SQL ledger…
                finally:
                    api.http.close()
            moved = migration.migrate(db, tb, dry_run=False)  # …and moved to the cluster
            assert not moved.problems
            return operator, (world.merchant, world.buyer, world.other_buyer, world.agent)
        finally:
            tb.close()
            db.dispose()

    def remove(self) -> None:
        """The stopped data files (1 GiB long each) and SQLite files; the PostgreSQL image
        databases are dropped with the worker's pools."""
        for image in self.built.values():
            image.data_file.unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)
