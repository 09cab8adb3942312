"""The deployment image's sparse copy of a data file (tests/tigerbeetle/images.py): the same
bytes, without the allocated-but-never-written extents a formatted data file is made of."""

from __future__ import annotations

import os

from tests.tigerbeetle.images import copy_sparse

MiB = 2**20


def test_a_sparse_copy_has_the_same_bytes_and_leaves_the_unwritten_extents_out(tmp_path):
    source = tmp_path / "source"
    with source.open("wb") as out:
        os.posix_fallocate(out.fileno(), 0, 16 * MiB)  # allocated, read as zeros
        out.seek(MiB)
        out.write(b"journal" * 1000)
        out.seek(9 * MiB + 123)
        out.write(b"\xff" * 70_000)
        out.truncate(20 * MiB)  # and a hole at the end
    target = tmp_path / "target"
    copy_sparse(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert source.stat().st_blocks * 512 >= 16 * MiB
    assert target.stat().st_blocks * 512 < MiB  # the two written ranges, not the 16 MiB
