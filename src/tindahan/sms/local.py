"""The local gateway: an ``SmsProvider`` for the demo, the tests and the benchmark that
sends nothing and accepts every message at once. The outbox records what went out (the
console's "Sent SMS"); the gateway keeps the last thousand in memory for a test's asserts."""

from __future__ import annotations

from dataclasses import dataclass, field

from tindahan.sms.port import Outcome


@dataclass
class LocalGateway:
    name: str = "local"
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, text: str, reference: str) -> Outcome:
        self.sent.append((to, text))
        del self.sent[:-1000]
        return Outcome(True, provider_message_id=f"local-{reference}")
