"""The TigerBeetle ledger URL: ``tigerbeetle://CLUSTER@ADDR,ADDR,…``."""

from __future__ import annotations

import pytest

from tindahan.tigerbeetle.address import LedgerUrlError, is_tigerbeetle, parse


def test_a_url_names_the_cluster_and_each_replica():
    found = parse("tigerbeetle://7@127.0.0.1:3000,3001,localhost:3002")
    assert found.cluster_id == 7
    assert found.addresses == ("127.0.0.1:3000", "127.0.0.1:3001", "localhost:3002")
    assert found.url == "tigerbeetle://7@127.0.0.1:3000,127.0.0.1:3001,localhost:3002"
    assert parse(found.url) == found
    assert (
        is_tigerbeetle(found.url) and not is_tigerbeetle("sqlite:///x") and not is_tigerbeetle(None)
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://x", "starts with tigerbeetle://"),
        ("tigerbeetle://127.0.0.1:3000", "cluster id"),
        ("tigerbeetle://x@3000", "cluster id"),
        ("tigerbeetle://0@", "is not HOST:PORT"),
        ("tigerbeetle://0@host:99999", "is not HOST:PORT"),
        ("tigerbeetle://0@3000,3000", "named twice"),
        ("tigerbeetle://0@1,2,3,4,5,6,7", "1 to 6"),
    ],
)
def test_a_bad_url_is_refused_with_the_reason(url, message):
    with pytest.raises(LedgerUrlError, match=message):
        parse(url)
