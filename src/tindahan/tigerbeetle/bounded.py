"""The official client with a bound on each request, for the API's processes.

``tigerbeetle.ClientSync`` waits for ever while no quorum of replicas answers: its
``_submit`` waits on an event with no timeout, and the client resends by itself until the
cluster is back. A payment request would hold its server thread and its caller that long.
``BoundedClient`` is that ``_submit`` (release 0.17.8, the pinned one) with the wait
bounded: past ``timeout_ms`` it raises ``LedgerUnavailableError`` (the API answers ``503
ledger_unavailable`` with Retry-After) and leaves the request queued in the client, which
still sends it when the cluster answers again. That is harmless by design: every write has
an id derived from the payment's, so it moves money at most once, and the payment left
unfinished is finished by a retry under its Idempotency-Key or by the recovery round.
The packet stays registered until the client completes it (its memory is read until then).
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from tigerbeetle.client import Client, CompletionContextSync, InflightPacket

import tigerbeetle as tb
from tigerbeetle import bindings
from tindahan.ledger.port import LedgerUnavailableError


class BoundedClient(tb.ClientSync):
    """``ClientSync`` whose requests give up waiting after ``timeout_ms`` milliseconds."""

    def __init__(self, cluster_id: int, replica_addresses: str, timeout_ms: int) -> None:
        super().__init__(cluster_id=cluster_id, replica_addresses=replica_addresses)
        self.timeout_ms = timeout_ms
        self._lock = threading.Lock()
        self._abandoned: set[int] = set()

    def _submit(
        self, operation: bindings.Operation, operations: Any, c_event_type: Any, c_result_type: Any
    ) -> Any:
        packet = self._acquire_packet(operation, operations, c_event_type, c_result_type)
        key = packet.packet.user_data
        done = threading.Event()
        self._inflight_packets[key] = packet
        packet.on_completion = self._completed
        packet.on_completion_context = CompletionContextSync(event=done)
        state = bindings.tb_client_submit(ctypes.byref(self._client), ctypes.byref(packet.packet))
        if state == bindings.ClientStatus.OK and not done.wait(self.timeout_ms / 1000):
            with self._lock:
                if not done.is_set():  # still out: forgotten when the client completes it
                    self._abandoned.add(key)
                    raise LedgerUnavailableError(
                        f"the TigerBeetle cluster did not answer within {self.timeout_ms} ms"
                    )
        del self._inflight_packets[key]
        if state == bindings.ClientStatus.INVALID:
            raise tb.ClientClosedError()
        if isinstance(packet.response, Exception):
            raise packet.response
        return packet.response

    def _completed(self, packet: InflightPacket) -> None:
        """On the client's thread: wake the caller, or drop a request it gave up on."""
        with self._lock:
            key = packet.packet.user_data
            if key in self._abandoned:
                self._abandoned.discard(key)
                self._inflight_packets.pop(key, None)
                return
            context = packet.on_completion_context
            assert isinstance(context, CompletionContextSync)
            context.event.set()

    def close(self) -> None:
        """Closing completes what is still queued (as shut down): abandoned requests drop."""
        bindings.tb_client_deinit(ctypes.byref(self._client))
        with self._lock:
            for key in self._abandoned:
                self._inflight_packets.pop(key, None)
            self._abandoned.clear()
        del Client._clients[self._client_key]
