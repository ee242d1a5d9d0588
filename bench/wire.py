"""Bytes on the wire for a patient's whole journey, as a browser behind the shipped proxy gets them.

One browser walks the journey over HTTP against the benchmark's gunicorn server (landing page,
consent, every question page and its POST, the check page, the submit, the result) and fetches
what each page links to (stylesheets, scripts, icons) as a browser does: once, then from its cache
while the response's Cache-Control lets it keep it, or with a conditional GET (If-None-Match,
If-Modified-Since) when it must ask again. Then the same browser walks it a second time (a repeat
visit: the next screening on the same phone or the clinic's tablet), with its cache as the first
walk left it.

Compression is what deploy/nginx.conf does in production: its gzip settings are read from that
file (gzip_comp_level, gzip_min_length, gzip_types, and text/html, which nginx always compresses),
and each response the proxy would compress is counted at the size gzip gives it at that level.
The shipped proxy speaks HTTP/2 (`listen 443 ssl http2`), whose HPACK sends a header line already
sent on the connection as an index of a byte or so. Headers are counted both ways: as gunicorn sends
them over HTTP/1.1 (plus the Content-Encoding the proxy adds), and as HTTP/2 would, estimated from
above: a line still in HPACK's 4,096-byte table of earlier lines costs one byte, any other its full
length (HPACK's Huffman coding and static table, left out here, would make it smaller still).
"""

from __future__ import annotations

import gzip
import http.client
import re
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.load import _local

NGINX_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"
PROFILE = "ideal_neck"
MAX_PAGES = 60


@dataclass(frozen=True)
class Gzip:
    level: int
    min_length: int
    types: frozenset[str]

    @classmethod
    def from_nginx(cls, path: Path = NGINX_CONF) -> Gzip:
        text = path.read_text(encoding="utf-8")

        def setting(name: str) -> str:
            match = re.search(rf"^\s*{name}\s+([^;]+);", text, re.MULTILINE)
            if match is None:
                raise RuntimeError(f"{path} has no {name}")
            return match.group(1).strip()

        if setting("gzip") != "on":
            return cls(0, 0, frozenset())
        return cls(
            int(setting("gzip_comp_level")),
            int(setting("gzip_min_length")),
            frozenset(setting("gzip_types").split()) | {"text/html"},
        )

    def size(self, content_type: str, body: bytes) -> int | None:
        """The compressed size of a body the proxy compresses, else None."""
        mime = content_type.split(";", 1)[0].strip().lower()
        if self.level and mime in self.types and len(body) >= self.min_length:
            return len(gzip.compress(body, compresslevel=self.level, mtime=0))
        return None


class HeaderTable:
    """HPACK's dynamic table (RFC 7541 section 4), for an upper estimate of what a header block costs:
    a line in the table costs one byte; any other costs its length and joins the table, oldest out
    first, each entry counting its name and value and 32 bytes."""

    def __init__(self, size: int = 4096) -> None:
        self.size, self.entries, self.used = size, [], 0  # type: ignore[var-annotated]

    def cost(self, lines: list[tuple[str, str]]) -> int:
        total = 0
        for name, value in lines:
            entry = (name.lower(), value)
            if entry in self.entries:
                total += 1
                continue
            total += len(name) + len(value) + 2
            self.entries.insert(0, entry)
            self.used += len(name) + len(value) + 32
            while self.used > self.size and self.entries:
                old = self.entries.pop()
                self.used -= len(old[0]) + len(old[1]) + 32
        return total


@dataclass
class Tally:
    requests: int = 0
    down: int = 0  # response headers (HTTP/1.1) and bodies, as sent
    down_http2: int = 0  # the same with the headers as HTTP/2 would send them (an upper estimate)
    up: int = 0  # request lines, headers and bodies (HTTP/1.1)
    up_http2: int = 0
    uncompressed_bodies: int = 0
    from_cache: int = 0
    revalidated: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "down_bytes": self.down,
            "down_bytes_http2": self.down_http2,
            "up_bytes": self.up,
            "up_bytes_http2": self.up_http2,
            "uncompressed_body_bytes": self.uncompressed_bodies,
            "from_cache": self.from_cache,
            "revalidated": self.revalidated,
            "down_by_kind_http2": dict(self.by_kind),
        }


class WireBrowser:
    """A browser with a cookie and an HTTP cache, counting the bytes each request costs."""

    def __init__(self, base: str, compression: Gzip) -> None:
        self.host, self.port = _local(base)
        self.compression = compression
        self.cookie = ""
        self.cache: dict[str, dict[str, str]] = {}  # path -> validators, and whether it is still fresh
        self.tally = Tally()
        self.sent_headers, self.received_headers = HeaderTable(), HeaderTable()  # one HTTP/2 connection

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> tuple[int, str, bytes]:
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Encoding": "gzip", "Accept-Language": "en-CA,en;q=0.9"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = urlencode(form, doseq=True).encode() if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        kept = self.cache.get(path) if method == "GET" else None
        if kept is not None:
            if kept.get("fresh") == "yes":
                self.tally.from_cache += 1
                return 200, "", b""
            if "etag" in kept:
                headers["If-None-Match"] = kept["etag"]
            if "last-modified" in kept:
                headers["If-Modified-Since"] = kept["last-modified"]
            self.tally.revalidated += 1
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("session="):
                self.cookie = header.split(";", 1)[0]
        self._count(method, path, headers, body, response, content)
        if method == "GET" and response.status == 200:
            self._keep(path, response)
        return response.status, response.headers.get("Location", ""), content

    def _count(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
        response: http.client.HTTPResponse,
        content: bytes,
    ) -> None:
        tally = self.tally
        tally.requests += 1
        sent = [(k, v) for k, v in headers.items() if k != "Host"] + (
            [("Content-Length", str(len(body)))] if body else []
        )
        tally.up += len(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n") + _length(sent) + 2 + len(body or b"")
        pseudo = [(":method", method), (":scheme", "https"), (":authority", self.host), (":path", path)]
        tally.up_http2 += self.sent_headers.cost(pseudo + sent) + len(body or b"")
        content_type = response.headers.get("Content-Type", "")
        compressed = None if response.headers.get("Content-Encoding") else self.compression.size(content_type, content)
        # What the proxy passes on: gunicorn's headers, less those of the hop, plus the encoding.
        received = [(k, v) for k, v in response.headers.items() if k.lower() not in ("connection", "server")]
        if compressed is not None:
            received = [(k, v) for k, v in received if k.lower() != "content-length"]
            received.append(("Content-Encoding", "gzip"))
        body_size = compressed if compressed is not None else len(content)
        size = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + _length(received) + 2 + body_size
        tally.down += size
        size_http2 = self.received_headers.cost([(":status", str(response.status)), *received]) + body_size
        tally.down_http2 += size_http2
        tally.uncompressed_bodies += len(content)
        kind = "pages" if content_type.startswith("text/html") else "static files and stylesheets"
        if response.status in (301, 302, 303, 304):
            kind = "redirects and 304s"
        tally.by_kind[kind] = tally.by_kind.get(kind, 0) + size_http2

    def _keep(self, path: str, response: http.client.HTTPResponse) -> None:
        control = (response.headers.get("Cache-Control") or "").lower()
        if "no-store" in control or "private" in control and "max-age" not in control:
            return
        max_age = re.search(r"max-age=(\d+)", control)
        fresh = max_age is not None and int(max_age.group(1)) > 0 and "no-cache" not in control
        kept = {"fresh": "yes" if fresh else "no"}
        if response.headers.get("ETag"):
            kept["etag"] = response.headers["ETag"]
        if response.headers.get("Last-Modified"):
            kept["last-modified"] = response.headers["Last-Modified"]
        if fresh or len(kept) > 1:
            self.cache[path] = kept

    def page(self, path: str) -> str:
        """GET a page and what it links to; return its HTML."""
        status, _location, content = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        html = content.decode("utf-8")
        for linked in _subresources(html):
            _status, _l, linked_content = self.request("GET", linked)
            if linked.split("?", 1)[0].endswith(".css"):
                for inner in re.findall(r"url\(\s*['\"]?(/[^'\")]+)", linked_content.decode("utf-8", "replace")):
                    self.request("GET", inner)
        return html


def _length(lines: list[tuple[str, str]]) -> int:
    return sum(len(f"{name}: {value}\r\n") for name, value in lines)


def _subresources(html: str) -> list[str]:
    found = []
    for tag in re.findall(r"<(?:link|script|img)\b[^>]*>", html):
        rel = re.search(r'\brel="([^"]+)"', tag)
        if tag.startswith("<link") and (rel is None or not {"stylesheet", "icon"} & set(rel.group(1).split())):
            continue
        url = re.search(r'\b(?:href|src)="([^"]+)"', tag)
        if url and url.group(1).startswith("/") and not url.group(1).startswith("//"):
            found.append(unescape(url.group(1)))
    return list(dict.fromkeys(found))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("a form without a CSRF token")
    return match.group(1)


def walk(browser: WireBrowser, answers: dict[str, object]) -> list[str]:
    """Landing page to result, as a person does; returns the pages' paths in order."""
    from tests.support.journey import form_data

    visited = ["/"]
    browser.page("/")
    html = browser.page("/start")
    status, location, _ = browser.request("POST", "/start", {"csrf_token": _csrf(html), "consent": "y"})
    if status not in (302, 303):
        raise RuntimeError(f"POST /start: {status}")
    for _ in range(MAX_PAGES):
        path = urlsplit(location).path
        if path == "/screening":
            status, location, _ = browser.request("GET", path)
            continue
        visited.append(path)
        html = browser.page(path)
        if path == "/screening/result":
            return visited
        if path == "/screening/check":
            status, location, _ = browser.request("POST", "/screening/submit", {"csrf_token": _csrf(html)})
        elif path == "/screening/needles-and-you":
            onward = [
                unescape(link)
                for link in re.findall(r'<a [^>]*href="(/screening/[^"?]+)"', html)
                if link != "/screening/needles"
            ]
            if len(onward) != 1:
                raise RuntimeError(f"{path}: no single way on ({onward})")
            location = onward[0]
            continue
        else:
            section = path.removeprefix("/screening/")
            fields = {**form_data(section, answers), "csrf_token": _csrf(html), "action": "continue"}
            status, location, _ = browser.request("POST", path, fields)
        if status != 303:
            raise RuntimeError(f"POST from {path}: {status}")
    raise RuntimeError(f"the journey did not end: {visited}")


def journey_bytes(base: str) -> dict[str, Any]:
    """The first and the repeat visit's bytes on the wire (see the module's docstring)."""
    from tests.support.journey import profile

    compression = Gzip.from_nginx()
    browser = WireBrowser(base, compression)
    pages = walk(browser, profile(PROFILE))
    first, browser.tally = browser.tally, Tally()
    walk(browser, profile(PROFILE))
    return {
        "profile": PROFILE,
        "pages": len(pages),
        "first": first.as_dict(),
        "repeat": browser.tally.as_dict(),
        "gzip": {"level": compression.level, "min_length": compression.min_length, "types": sorted(compression.types)},
    }
