"""The ``tigerbeetle`` server binary: found, or built from the vendored source release.

TigerBeetle's server has no PyPI or Debian package; it builds from source with Zig 0.14.1,
which PyPI ships as ``ziglang``. The source release 0.17.8 sits in ``../shared/vendor/``
beside the checkout (or wherever ``TINDAHAN_TIGERBEETLE_SRC`` points: the tarball or its
folder); its sha256 is checked before anything is unpacked. The build goes into a cache
outside the checkout, ``~/.cache/tindahan/tigerbeetle/0.17.8/tigerbeetle`` (under
``$XDG_CACHE_HOME`` when set), so every worktree and CI run on the machine shares one
binary. The recipe is the one ``../shared/vendor/README.md`` verified: build.zig reads git
(it wants a commit with a parent and a few release tags), so the unpacked source is made a
throwaway repository first; nothing is downloaded but the ``ziglang`` package itself.

Lookup order: ``TINDAHAN_TIGERBEETLE_BIN``, then ``tigerbeetle`` on ``PATH``, then the cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from tindahan.tigerbeetle import RELEASE

BIN_ENV = "TINDAHAN_TIGERBEETLE_BIN"
SRC_ENV = "TINDAHAN_TIGERBEETLE_SRC"
TARBALL = f"tigerbeetle-{RELEASE}-src.tar.gz"
TARBALL_SHA256 = "e9b5dec341d345a030e2d1dd755e398b4cf244ff2a810aa4f6931043e68173dd"
GIT_COMMIT = "1e2826ecdee2f6ba617c1ee10903dfa01974d437"
CLIENT_MIN = "0.16.4"
ZIG = "ziglang==0.14.1"
#: build.zig's upgrade tests look these release tags up; a plain build only needs them to exist.
OLDER_TAGS = ("0.17.7", "0.17.6", "0.17.5", "0.17.4", "0.17.3")
BUILD_TIMEOUT_S = 30 * 60
HOW_TO_BUILD = (
    "build it with `tindahan ledger cluster build` (about 4 minutes; needs "
    f"{TARBALL} in ../shared/vendor or ${SRC_ENV}), or point ${BIN_ENV} at one"
)
Say = Callable[[str], None]


class ServerBinaryError(RuntimeError):
    """No usable ``tigerbeetle`` binary, or its build failed."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tindahan" / "tigerbeetle"


def cached_binary() -> Path:
    return cache_dir() / RELEASE / "tigerbeetle"


def find_binary() -> Path | None:
    """The binary to run, or None: ``$TINDAHAN_TIGERBEETLE_BIN``, ``PATH``, the cache."""
    named = os.environ.get(BIN_ENV)
    if named:
        path = Path(named)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    on_path = shutil.which("tigerbeetle")
    if on_path:
        return Path(on_path)
    cached = cached_binary()
    return cached if cached.is_file() and os.access(cached, os.X_OK) else None


def require_binary() -> Path:
    found = find_binary()
    if found is not None:
        return found
    named = os.environ.get(BIN_ENV)
    if named:
        raise ServerBinaryError(f"${BIN_ENV} names {named}, which is not an executable file")
    raise ServerBinaryError(f"no tigerbeetle {RELEASE} server binary was found: {HOW_TO_BUILD}")


def version(binary: Path) -> str:
    """``TigerBeetle version 0.17.8+1e2826e`` → ``0.17.8``."""
    done = subprocess.run(
        [str(binary), "version"], capture_output=True, text=True, timeout=30, check=False
    )
    words = done.stdout.split()
    if done.returncode != 0 or len(words) < 3 or words[:2] != ["TigerBeetle", "version"]:
        raise ServerBinaryError(f"{binary} is not a tigerbeetle binary: {done.stderr.strip()}")
    return words[2].split("+")[0]


def find_source(repo: Path | None = None) -> Path:
    """The vendored tarball: ``$TINDAHAN_TIGERBEETLE_SRC`` (file or folder), else
    ``../shared/vendor`` beside the checkout (or beside the working folder)."""
    named = os.environ.get(SRC_ENV)
    if named:
        path = Path(named)
        candidates = [path / TARBALL if path.is_dir() else path]
    else:
        roots = [repo] if repo else []
        roots += [Path(__file__).resolve().parents[3], Path.cwd()]
        candidates = [root.parent / "shared" / "vendor" / TARBALL for root in roots]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    where = ", ".join(str(c) for c in candidates)
    raise ServerBinaryError(f"the TigerBeetle source release was not found (looked at {where})")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(source: Path | None = None, *, say: Say = print, force: bool = False) -> Path:
    """Build the server from the vendored source into the cache; returns the binary.

    A cached binary of the right release is kept unless ``force``. The tarball's sha256
    must be the one the vendor README gives, or nothing is unpacked.
    """
    target = cached_binary()
    if target.is_file() and not force and version(target) == RELEASE:
        say(f"already built: {target}")
        return target
    tarball = source or find_source()
    found = sha256_of(tarball)
    if found != TARBALL_SHA256:
        raise ServerBinaryError(
            f"{tarball} has sha256 {found}, not the vendored release's {TARBALL_SHA256}"
        )
    zig = _zig(say)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tigerbeetle-build-", dir=cache_dir()) as scratch:
        tree = _unpack(tarball, Path(scratch))
        _as_repository(tree)
        say(f"building tigerbeetle {RELEASE} with Zig (about 4 minutes on 2 cores)…")
        _run(
            [
                str(zig),
                "-m",
                "ziglang",
                "build",
                "-Drelease",
                f"-Dgit-commit={GIT_COMMIT}",
                f"-Dconfig-release={RELEASE}",
                f"-Dconfig-release-client-min={CLIENT_MIN}",
            ],
            tree,
            BUILD_TIMEOUT_S,
        )
        built = tree / "zig-out" / "bin" / "tigerbeetle"
        if version(built) != RELEASE:
            raise ServerBinaryError(f"the build made {version(built)}, not {RELEASE}")
        partial = target.with_name("tigerbeetle.partial")
        shutil.copy2(built, partial)
        partial.replace(target)  # atomic: a concurrent finder sees the old file or the new
    say(f"built {target}")
    return target


def _zig(say: Say) -> Path:
    """A venv in the cache holding Zig from PyPI; its Python runs ``-m ziglang``."""
    venv = cache_dir() / "zig-0.14.1"
    python = venv / "bin" / "python"
    if not (venv / ".installed").is_file():
        say(f"installing {ZIG} from PyPI into {venv}…")
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], None, 300)
        _run([str(python), "-m", "pip", "install", "--quiet", ZIG], None, 900)
        (venv / ".installed").write_text(ZIG + "\n")
    return python


def _unpack(tarball: Path, scratch: Path) -> Path:
    with tarfile.open(tarball) as archive:
        archive.extractall(scratch, filter="data")
    tree = scratch / f"tigerbeetle-{RELEASE}"
    if not (tree / "build.zig").is_file():
        raise ServerBinaryError(f"{tarball} does not hold tigerbeetle-{RELEASE}/build.zig")
    return tree


def _as_repository(tree: Path) -> None:
    ident = ["-c", "user.email=build@localhost", "-c", "user.name=build"]
    _run(["git", "init", "-q"], tree, 60)
    _run(["git", *ident, "commit", "-q", "--allow-empty", "-m", "base"], tree, 60)
    _run(["git", "add", "-A"], tree, 120)
    _run(["git", *ident, "commit", "-q", "-m", f"tigerbeetle {RELEASE}"], tree, 120)
    for tag in OLDER_TAGS:
        _run(["git", "tag", tag, "HEAD^"], tree, 60)


def _run(command: list[str], cwd: Path | None, timeout: int) -> None:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerBinaryError(f"{command[0]} failed: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ServerBinaryError(f"`{' '.join(command[:4])} …` failed:\n{tail}")
