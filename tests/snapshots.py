"""Expensive per-test worlds, built once per worker and restored for each test.

Why: the API tests' ``world`` (four parties, their keys and fundings, made through the API)
cost about 0.28 s of CPU a test, two thirds of an API test's, and the pages' ``site`` (five
people who can sign in, two shops, two products) about as much; the suite has over a
thousand such tests. Each is now built once per worker, per database kind and per clock, on
a copy of the migrated template, and every test that asks for it starts on a copy of that
database — the way ``db`` copies the migrated template (SQLite: the file copied; PostgreSQL:
a pool of databases put back to the snapshot's rows and sequences, tests/databases.py). The
test still gets a world of its own, identical to the one it built before: the same clock
(a copy of the test's clock, not advanced by the build), the same data key, the same rows;
only the ids and API keys, random before, are now the same from test to test.

A recipe names the fixtures it stands in for and the modules that must define them: a test
module that overrides one of them (its own ``platform``, ``vault`` or ``world``) builds its
world itself as before. The build runs when the first test of a worker needs it, before
that test's own fixtures past ``db`` are set up.
"""

from __future__ import annotations

import copy
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.databases import Pool
from tindahan.store.database import Database, connect

#: ``build(database, fixture)``: fills the database (already migrated, on a copy of the
#: test's clock) and returns what the test's fixtures hand out; ``fixture`` gets a
#: session-scoped fixture (``shared_server``) by name.
Build = Callable[[Database, Callable[[str], Any]], Any]


@dataclass(frozen=True)
class Recipe:
    name: str  # the fixture it stands in for
    owners: dict[str, str]  # fixture -> the module that must define it for the recipe to hold
    build: Build


_RECIPES: dict[str, Recipe] = {}
_RESTORED = pytest.StashKey[tuple[str, Any]]()


def register(recipe: Recipe) -> None:
    _RECIPES[recipe.name] = recipe


def recipe_for(request: pytest.FixtureRequest) -> Recipe | None:
    """The recipe whose fixture this test uses, when every fixture it stands in for is the
    recipe's own (a module overriding one builds its world itself)."""
    names = request.fixturenames
    defs = request._arg2fixturedefs  # which definition each name resolves to (private)
    for recipe in _RECIPES.values():
        if recipe.name not in names:
            continue
        if all(
            name in defs and defs[name][-1].func.__module__ == module
            for name, module in recipe.owners.items()
            if name in names
        ):
            return recipe
    return None


def restored(request: pytest.FixtureRequest, name: str) -> Any | None:
    """What the snapshot ``name`` handed out for this test's database, or None when the
    test's database is not a copy of it (the fixture then builds its world as before)."""
    found = request.node.stash.get(_RESTORED, None)
    if found is None or found[0] != name:
        return None
    return copy.deepcopy(found[1])


def _clock_key(clock: Any) -> tuple[str, str]:
    return (type(clock).__qualname__, repr(sorted(vars(clock).items())))


class Snapshots:
    """The worker's snapshots: a SQLite file, or a pool of PostgreSQL databases, per recipe,
    database kind and clock."""

    def __init__(
        self,
        folder: Path,
        sqlite_template: Path,
        postgres_template: str | None,
        pools: dict[Any, Pool] | None,
        admin: Callable[[], str],
        conninfo: Callable[[str], str],
        url: Callable[[str], str],
    ) -> None:
        self.folder = folder
        self.sqlite_template = sqlite_template
        self.postgres_template = postgres_template
        self.pools = pools
        self.admin = admin
        self.conninfo = conninfo
        self.url = url
        self.files: dict[tuple[Any, ...], tuple[Path, Any]] = {}
        self.values: dict[tuple[Any, ...], Any] = {}

    def sqlite(
        self, request: pytest.FixtureRequest, recipe: Recipe, clock: Any, target: Path
    ) -> None:
        """Copy the snapshot's file to ``target`` (building it first if needed)."""
        key = (recipe.name, "sqlite", _clock_key(clock))
        if key not in self.files:
            path = self.folder / f"{recipe.name}-{len(self.files)}.db"
            shutil.copyfile(self.sqlite_template, path)
            database = connect(f"sqlite:///{path}", clock=copy.deepcopy(clock))
            try:
                value = recipe.build(database, request.getfixturevalue)
            finally:
                database.dispose()  # the last connection checkpoints the WAL into the file
            assert not path.with_name(path.name + "-wal").exists()
            self.files[key] = (path, value)
        path, value = self.files[key]
        shutil.copyfile(path, target)
        request.node.stash[_RESTORED] = (recipe.name, value)

    def postgres(self, request: pytest.FixtureRequest, recipe: Recipe, clock: Any) -> Pool:
        """The pool of databases in the snapshot's state (building it first if needed)."""
        assert self.pools is not None and self.postgres_template is not None
        key = (recipe.name, "postgres", _clock_key(clock))
        if key not in self.pools:
            name = f"tindahan_snap_{secrets.token_hex(4)}"
            with psycopg.connect(self.admin(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.postgres_template}"')
            pool = Pool(self.admin, self.conninfo, name)
            self.pools[key] = pool  # dropped with the others at the end, built or not
            database = connect(self.url(name), clock=copy.deepcopy(clock))
            try:
                self.values[key] = recipe.build(database, request.getfixturevalue)
            finally:
                database.dispose()
            with psycopg.connect(self.admin(), autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
        request.node.stash[_RESTORED] = (recipe.name, self.values[key])
        return self.pools[key]
