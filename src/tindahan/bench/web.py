"""The web pages on a slow phone connection: how many bytes each key page costs and how
long it takes to load on Chrome DevTools' "Slow 3G" profile (400 kbit/s each way, 400 ms
round trip), in Debian's Chromium driven by Playwright, cold cache each time.

It starts ``tindahan serve --demo`` on a fresh SQLite database in a temporary folder (the
same demo ``make run`` shows; seeding and training the model take a minute or two), signs in
as the demo people it prints, and loads each page ``--runs`` times. Reported per page: bytes
transferred (HTML, CSS, JS, images; as sent, before decompression) and the median and range
of the time to the ``load`` event. The target (issue 8) is no page over ~200 kB before images.

    .venv/bin/python -m tindahan.bench.web --runs 5          # make bench-web
    .venv/bin/python -m tindahan.bench.web --runs 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("TINDAHAN_CHROMIUM", "/usr/bin/chromium")
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
SIGN_IN = re.compile(r"demo sign-in, (.+?) \((.*)\): phone (\S+), PIN (\d+)")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(folder: Path, port: int) -> tuple[subprocess.Popen[str], dict[str, tuple[str, str]]]:
    exe = Path(sys.executable).parent / "tindahan"
    process = subprocess.Popen(
        [str(exe), "serve", "--demo", "--port", str(port), "--no-worker"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    people: dict[str, tuple[str, str]] = {}
    assert process.stdout is not None
    for line in process.stdout:
        found = SIGN_IN.search(line)
        if found:
            people[found.group(1).strip()] = (found.group(3), found.group(4))
        if "Press Ctrl-C" in line:
            return process, people
    raise RuntimeError("tindahan serve --demo stopped before serving")


def measure(page: Page, url: str) -> tuple[int, float]:
    client = page.context.new_cdp_session(page)
    client.send("Network.enable")
    client.send("Network.setCacheDisabled", {"cacheDisabled": True})
    client.send("Network.emulateNetworkConditions", SLOW_3G)
    sizes: list[int] = []
    client.on("Network.loadingFinished", lambda e: sizes.append(int(e["encodedDataLength"])))
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    seconds = time.perf_counter() - started
    client.detach()
    return sum(sizes), seconds


def sign_in(page: Page, base: str, phone: str, pin: str) -> None:
    page.goto(base + "/signin")
    page.fill("#f-phone", phone)
    page.fill("#f-secret", pin)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_load_state()


PLAN = [
    (None, ["/", "/signin"]),
    (
        "merchant with a loan offer",
        ["/m", "/m/requests", "/m/orders", "/m/products", "/m/loans", "/m/wallet", "/m/qr"],
    ),
    ("buyer", ["/b", "/b/orders"]),
    ("operator", ["/op", "/op/parties", "/op/loans", "/op/audit"]),
]


def run(runs: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        process, people = start_demo(Path(folder), port)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for who, paths in PLAN:
                    context = browser.new_context(viewport={"width": 360, "height": 740})
                    page = context.new_page()
                    if who is not None:
                        sign_in(page, base, *people[who])
                    slugs = list(paths)
                    if who == "merchant with a loan offer":
                        page.goto(base + "/m/store")
                        link = page.locator("a[href^='/s/']").first
                        if link.count():
                            slugs.append(link.get_attribute("href") or "")
                    for path in slugs:
                        measured = [measure(page, base + path) for _ in range(runs)]
                        times = [t for _, t in measured]
                        rows.append(
                            {
                                "page": path,
                                "who": who or "anyone",
                                "bytes": statistics.median(b for b, _ in measured),
                                "median_s": round(statistics.median(times), 2),
                                "min_s": round(min(times), 2),
                                "max_s": round(max(times), 2),
                            }
                        )
                    context.close()
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args.runs)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'page':<28} {'who':<28} {'kB':>7} {'load s (median)':>16} {'range':>12}")
    for row in rows:
        print(
            f"{row['page']:<28} {row['who']:<28} {row['bytes'] / 1000:>7.1f} "
            f"{row['median_s']:>16.2f} {row['min_s']:>5.2f}–{row['max_s']:<5.2f}"
        )


if __name__ == "__main__":
    main()
