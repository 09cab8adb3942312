"""The ledger URL: ``tigerbeetle://CLUSTER@ADDR,ADDR,…`` (one address per replica).

``CLUSTER`` is the cluster id (a whole number below 2**128); each ``ADDR`` is ``HOST:PORT``
or a bare port (TigerBeetle's own shorthand for 127.0.0.1). Unset, the deployment keeps
its ledger in the main SQL database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "tigerbeetle://"
MAX_REPLICAS = 6  # TigerBeetle's own bound on a cluster's voting replicas
_ADDRESS = re.compile(r"(?:(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):)?(?P<port>[0-9]{1,5})")


class LedgerUrlError(ValueError):
    """A ledger URL that is not ``tigerbeetle://CLUSTER@ADDR,ADDR,…``."""


@dataclass(frozen=True, slots=True)
class ClusterAddress:
    cluster_id: int
    addresses: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"{SCHEME}{self.cluster_id}@{','.join(self.addresses)}"

    @property
    def replica_addresses(self) -> str:
        """The addresses as the client and ``tigerbeetle start`` take them."""
        return ",".join(self.addresses)


def is_tigerbeetle(url: str | None) -> bool:
    return url is not None and url.startswith(SCHEME)


def parse(url: str) -> ClusterAddress:
    """The cluster id and replica addresses of ``url``; a clear error naming the fault."""
    if not url.startswith(SCHEME):
        raise LedgerUrlError(f"a ledger URL starts with {SCHEME}, not {url[:20]!r}")
    rest = url[len(SCHEME) :]
    cluster, at, hosts = rest.partition("@")
    if not at or not cluster.isdigit() or int(cluster) >= 2**128:
        raise LedgerUrlError(
            f"{url!r}: the cluster id (a whole number) comes before '@', as in "
            f"{SCHEME}0@127.0.0.1:3000"
        )
    addresses = tuple(part.strip() for part in hosts.split(","))
    if not 1 <= len(addresses) <= MAX_REPLICAS:
        raise LedgerUrlError(f"{url!r}: name 1 to {MAX_REPLICAS} replica addresses")
    normal = []
    for address in addresses:
        found = _ADDRESS.fullmatch(address)
        if found is None or not 0 < int(found["port"]) < 65536:
            raise LedgerUrlError(f"{url!r}: {address!r} is not HOST:PORT or PORT")
        normal.append(f"{found['host'] or '127.0.0.1'}:{int(found['port'])}")
    if len(set(normal)) != len(normal):
        raise LedgerUrlError(f"{url!r}: an address is named twice")
    return ClusterAddress(int(cluster), tuple(normal))
