"""Load on 127.0.0.1 only: wrk (closed loop, for throughput), a fixed-rate client (open loop, for
latency below saturation), and a small cookie-keeping client for signing in and checking pages."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit

LUA = Path(__file__).resolve().parent / "lua" / "requests.lua"


class Request(NamedTuple):
    method: str
    path: str
    cookie: str = ""
    body: str = ""


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("The benchmark needs wrk (apt-get install wrk).")
    return found


def _local(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    if parts.hostname != "127.0.0.1" or parts.port is None:
        raise ValueError(f"load goes to 127.0.0.1 only, not {base}")
    return parts.hostname, parts.port


def wrk(base: str, requests: list[Request], *, seconds: int, connections: int, threads: int = 2) -> dict[str, float]:
    """Run wrk against `base` for `seconds`, sending `requests` in turn; return its counts and
    latency percentiles (milliseconds) and the throughput."""
    _local(base)
    while len(requests) < threads:  # every thread needs a line of its own
        requests = requests * 2
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as listing:
        for request in requests:
            listing.write("\t".join(request) + "\n")
    try:
        done = subprocess.run(  # noqa: S603 (wrk, with arguments built here)
            [
                require_wrk(),
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA),
                base,
                "--",
                listing.name,
                str(threads),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        Path(listing.name).unlink()
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH "))
    return {
        "requests": raw["requests"],
        "seconds": round(raw["duration_us"] / 1e6, 2),
        "req_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": raw["non_2xx_3xx"] + raw["socket_errors"] + raw["timeouts"],
        "repeated": raw["repeated"],
        "connections": connections,
    }


def fixed_rate(
    base: str, paths: list[str], cookie: str, *, rate: float, seconds: float, clients: int = 8
) -> dict[str, float]:
    """GET `paths` in turn at a constant `rate` for `seconds`, however fast the answers come (an open
    loop, like wrk2's -R). Each latency counts from when its request was due, so a slow answer
    that delays the next request is measured, not hidden (no coordinated omission)."""
    host, port = _local(base)
    total = int(rate * seconds)
    numbers = itertools.count()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = time.perf_counter() + 0.1

    def client() -> None:
        while (number := next(numbers)) < total:
            due = start + number / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            connection = http.client.HTTPConnection(host, port, timeout=30)
            try:
                connection.request("GET", paths[number % len(paths)], headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                connection.close()
            with lock:
                latencies.append(time.perf_counter() - due)
                statuses[status] += 1

    workers = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "rate_per_s": rate,
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p90_ms": round(cuts[89] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "errors": sum(count for status, count in statuses.items() if not 200 <= status < 400),
    }


@dataclass
class Reply:
    status: int
    location: str
    body: str


class Browser:
    """One visitor: keeps the session cookie itself (production marks it Secure, which a cookie jar
    would not send over plain http), follows no redirects."""

    def __init__(self, base: str) -> None:
        self.host, self.port = _local(base)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None, body: str | None = None) -> Reply:
        """Send a request (`form` or an already encoded `body`); keep any new session cookie."""
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = urlencode(form) if form is not None else body
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                if header.startswith("session="):
                    self.cookie = header.split(";", 1)[0]
            return Reply(response.status, response.headers.get("Location", ""), text)
        finally:
            connection.close()

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the form on the page at `path`."""
        reply = self.request("GET", path)
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', reply.body)
        if reply.status != 200 or match is None:
            raise RuntimeError(f"GET {path}: {reply.status}, no CSRF token")
        return match.group(1)


def expect(reply: Reply, status: int, location: str = "") -> None:
    """Stop the benchmark when a request does not get the answer it is there to measure."""
    if reply.status != status or location not in reply.location:
        title = re.search(r"<title>(.*?)</title>", reply.body, re.DOTALL)
        errors = re.findall(r'class="error-message"[^>]*>(.*?)</', reply.body, re.DOTALL)
        raise RuntimeError(
            f"expected {status} {location}, got {reply.status} {reply.location} "
            f"({title.group(1).strip() if title else reply.body[:200]!r}; errors: {errors})"
        )


def send(base: str, request: Request) -> Reply:
    """Send one of the requests given to `wrk` on its own, to check what it gets back."""
    browser = Browser(base)
    browser.cookie = request.cookie
    return browser.request(request.method, request.path, body=request.body or None)
