"""A real browser: Debian's chromium, headless, loads the served site on 127.0.0.1.

The home page and the charts page render (a screenshot that is not blank), and every
request the browser made went to 127.0.0.1 (read from Chromium's own network log).
"""

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from timebank.testing import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def site(published):
    with served(published) as url:
        yield url


def png_pixels(path: Path) -> bytes:
    """The decompressed image data of a PNG (filter bytes included): enough to judge blankness."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    return zlib.decompress(b"".join(chunks))


def shoot(url: str, out: Path, netlog: Path, profile: Path) -> None:
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--metrics-recording-only",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--window-size=1200,1400",
            f"--screenshot={out}",
            # no name resolves but 127.0.0.1, so not even Chromium's own update checks can leave
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--log-net-log={netlog}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )


@pytest.mark.parametrize("page", ["/", "/-/charts"])
def test_the_site_renders_in_a_real_browser_and_stays_on_this_machine(site, tmp_path, page):
    shot, netlog = tmp_path / "page.png", tmp_path / "net.json"
    shoot(site + page, shot, netlog, tmp_path / "profile")
    pixels = png_pixels(shot)
    assert len(set(pixels)) > 50, "the screenshot is blank"
    assert pixels.count(0xFF) < 0.97 * len(pixels)
    events, types = read_netlog(netlog)
    page_urls = [
        e["params"]["url"]
        for e in events
        if types[e["type"]] == "URL_REQUEST_START_JOB"
        and "127.0.0.1" in e.get("params", {}).get("network_isolation_key", "")
    ]
    assert any(u.rstrip("/") == (site + page).rstrip("/") for u in page_urls), "the log shows the page itself"
    assert all(LOOPBACK_URL.match(u) for u in page_urls), f"the page asked elsewhere: {page_urls}"
    connected = [
        a
        for e in events
        if types[e["type"]] in ("TCP_CONNECT_ATTEMPT", "TCP_CONNECT")
        for a in [e.get("params", {}).get("address") or e.get("params", {}).get("remote_address")]
        if a
    ]
    assert connected and all(a.startswith("127.0.0.1:") for a in connected), connected
    # TCP went only to 127.0.0.1 (above); no datagram was sent at all (no DNS, no QUIC)
    assert not [e for e in events if types[e["type"]] == "UDP_BYTES_SENT"], "a datagram was sent"


LOOPBACK_URL = re.compile(r"^https?://127\.0\.0\.1[:/]")


def read_netlog(path: Path):
    """Chromium's net log (it may be cut off at exit): events and the names of their types."""
    text = path.read_text(errors="replace").rstrip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = json.loads(text.rstrip(",") + "]}")
    types = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    return data["events"], types
