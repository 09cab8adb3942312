"""Where product photos' bytes live: a ``MediaStore``, on disk under ``./var/media`` by default.

The database holds each photo's row (its product, alt text and renditions' names); the bytes
go here, named by their SHA-256 (``commerce.photos``). That split keeps the database small
and lets an object store (S3, GCS, MinIO) replace the disk by implementing the three
methods of ``MediaStore``: a name is written once with the bytes it is the hash of, so a
retried or repeated write is harmless and a reader can cache it forever.

``TINDAHAN_MEDIA_DIR`` moves the folder (several API processes on one machine share it; on
several machines, use an object store or a shared volume).

A second, private store (``./var/private``, ``TINDAHAN_PRIVATE_MEDIA_DIR``) holds what must
never be served to the public: the ID images checked at onboarding
(``services.platform.onboarding``), sealed by the vault before they are written. It is a
separate folder, not a prefix in the public one, so no public route can reach it by name.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

MEDIA_DIR_ENV = "TINDAHAN_MEDIA_DIR"
DEFAULT_FOLDER = Path("var") / "media"
PRIVATE_DIR_ENV = "TINDAHAN_PRIVATE_MEDIA_DIR"
DEFAULT_PRIVATE_FOLDER = Path("var") / "private"
#: A stored name: 64 hex digits of SHA-256 and the format's suffix.
NAME = re.compile(r"[0-9a-f]{64}\.webp")


class MediaStore(Protocol):
    def put(self, name: str, data: bytes) -> None:
        """Keep ``data`` under ``name`` (the same name always holds the same bytes)."""

    def get(self, name: str) -> bytes | None:
        """The bytes under ``name``, or None."""

    def delete(self, name: str) -> None:
        """Forget ``name`` (nothing if absent)."""


class DiskMedia:
    """Files in one folder, two levels of subfolders by the name's first hex digits (so no
    folder holds more than a few thousand files), written atomically (a temporary file
    renamed into place: a reader never sees half a photo)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not NAME.fullmatch(name):
            raise ValueError(f"not a media name: {name!r}")
        return self.root / name[:2] / name[2:4] / name

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)


def default_media() -> MediaStore:
    """The folder ``TINDAHAN_MEDIA_DIR`` names, else ``./var/media``."""
    return DiskMedia(Path(os.environ.get(MEDIA_DIR_ENV) or DEFAULT_FOLDER))


def default_private_media() -> MediaStore:
    """The folder ``TINDAHAN_PRIVATE_MEDIA_DIR`` names, else ``./var/private``."""
    return DiskMedia(Path(os.environ.get(PRIVATE_DIR_ENV) or DEFAULT_PRIVATE_FOLDER))
