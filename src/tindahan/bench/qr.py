"""Decode + validate throughput of the EMVCo MPM / QR Ph codec on one core.

Builds a corpus of a few hundred distinct valid payloads with ``tindahan.qr.encode`` (static
and dynamic QR Ph person-to-merchant codes with varied names, cities, amounts and references,
plus some person-to-person ``com.p2pqrpay`` codes), then times ``decode(p, strict=True)``
(parse + CRC + full EMVCo conformance) and tolerant ``decode(p)`` over the corpus, repeatedly,
in this one process. Each run lasts about ``--seconds``; the table shows the median of the runs
and their range.

    .venv/bin/python -m tindahan.bench.qr                  # 5 runs of 1 s per mode
    .venv/bin/python -m tindahan.bench.qr --runs 9 --seconds 2 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time

from tindahan.qr import AccountTemplate, AdditionalData, QrDescription, decode, encode

NAMES = [
    "SARI-SARI NI ALING NENA",
    "JOLLY MART",
    "TINDAHAN NI MANG JUAN",
    "KUYA BEN BAKERY",
    "ATE LORNA CARINDERIA",
    "PUREGOLD EXPRESS",
    "MERCURY DRUG",
    "7 ELEVEN BGC",
    "LUGAWAN SA KANTO",
    "BIGASAN NI ROSA",
    "VULCANIZING SHOP",
    "REYES HARDWARE",
]
CITIES = [
    "MANILA",
    "QUEZON CITY",
    "CEBU CITY",
    "DAVAO CITY",
    "MAKATI",
    "PASIG",
    "ILOILO CITY",
    "BAGUIO",
    "TACLOBAN",
    "ZAMBOANGA",
]
ACQUIRERS = ["RCBCPHMMXXX", "BNORPHMMXXX", "MBTCPHMMXXX", "UBPHPHMMXXX", "GXCHPHM2XXX"]
MCCS = ["5411", "5499", "5812", "5912", "5251", "7538", "5814"]


def corpus(size: int = 400, seed: int = 1055) -> list[str]:
    """``size`` distinct valid payloads: ~45% static P2M, ~45% dynamic P2M, ~10% P2P."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < size:
        roll = rng.random()
        if roll < 0.1:
            account = f"{rng.randrange(10**11, 10**12)}"
            mobile = f"+63-9{rng.randrange(10**8, 10**9)}"
            description = QrDescription(
                accounts=(
                    AccountTemplate(
                        "27",
                        "com.p2pqrpay",
                        {
                            "01": rng.choice(ACQUIRERS),
                            "02": "99964403",
                            "04": account,
                            "05": mobile,
                        },
                    ),
                ),
                mcc="6016",
                name=rng.choice(["JUAN DELA CRUZ", "MARIA SANTOS", "JOSE RIZAL", "ANA REYES"]),
                city=rng.choice(CITIES),
                additional=AdditionalData(guid="com.p2pqrpay", mobile_number=mobile),
            )
        else:
            dynamic = roll < 0.55
            merchant_id = f"{rng.randrange(10**9, 10**10)}"
            fields = {"01": rng.choice(ACQUIRERS), "03": merchant_id}
            if rng.random() < 0.5:
                fields["05"] = "010"
            reference = f"INV{rng.randrange(10**6, 10**7)}" if dynamic else None
            description = QrDescription(
                accounts=(AccountTemplate("28", "ph.ppmi.p2m", fields),),
                mcc=rng.choice(MCCS),
                name=rng.choice(NAMES),
                city=rng.choice(CITIES),
                amount_minor=rng.randrange(100, 5_000_000) if dynamic else None,
                postal_code=f"{rng.randrange(1000, 9900)}" if rng.random() < 0.3 else None,
                additional=AdditionalData(
                    guid="ph.ppmi.qrph",
                    store_label=f"STORE{rng.randrange(1, 99):02d}" if rng.random() < 0.4 else None,
                    reference_label=reference,
                    terminal_label=f"T{rng.randrange(1, 999):03d}" if dynamic else None,
                ),
            )
        out.add(encode(description))
    return sorted(out)


def one_run(payloads: list[str], strict: bool, seconds: float) -> float:
    """Decode the corpus over and over for about ``seconds``; return payloads per second."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for p in payloads:
            decode(p, strict)
        count += len(payloads)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def measure(payloads: list[str], strict: bool, runs: int, seconds: float) -> dict[str, object]:
    one_run(payloads, strict, min(seconds, 0.2))  # warm-up
    rates = [one_run(payloads, strict, seconds) for _ in range(runs)]
    return {
        "mode": "strict" if strict else "tolerant",
        "runs": runs,
        "median": round(statistics.median(rates)),
        "min": round(min(rates)),
        "max": round(max(rates)),
        "rates": [round(r) for r in rates],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per mode (default 5)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one run (1.0)")
    parser.add_argument("--size", type=int, default=400, help="distinct payloads (default 400)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    payloads = corpus(args.size)
    for p in payloads:  # the corpus must be valid, or the benchmark measures error paths
        decode(p, strict=True)
    results = [measure(payloads, strict, args.runs, args.seconds) for strict in (True, False)]
    command = "python -m tindahan.bench.qr" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    if args.json:
        info = {
            "command": command,
            "python": platform.python_version(),
            "corpus": len(payloads),
            "mean_length": round(sum(map(len, payloads)) / len(payloads)),
            "results": results,
        }
        print(json.dumps(info, indent=2))
        return 0
    print(
        f"corpus: {len(payloads)} distinct payloads, mean length "
        f"{sum(map(len, payloads)) / len(payloads):.0f} characters; Python "
        f"{platform.python_version()}; {args.runs} runs of {args.seconds:g} s per mode"
    )
    print()
    print("| Command | Mode | Payloads/s (median) | Range |")
    print("|---|---|---:|---:|")
    for r in results:
        what = "strict validation" if r["mode"] == "strict" else "tolerant warnings"
        print(f"| `{command}` | decode + {what} | {r['median']:,} | {r['min']:,}–{r['max']:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
