"""The study report in a real browser (headless Chromium over the DevTools pipe) and the README's code."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import time
import warnings
from html import unescape
from pathlib import Path

import pytest

from radiogenomics import study

ROOT = Path(__file__).parents[1]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
HEADINGS = [
    "Cohort and pairing",
    "Feature quality",
    "Radiogenomic associations",
    "Multi-omics factors (MOFA+)",
    "Prediction from radiomic features",  # targets need not be molecular (images example: lesion size)
    "Survival signature",
    "Pathway enrichment",
    "Methods",
    "Reporting checklist",
    "Provenance",
]


class DevTools:
    """Minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out)."""

    def __init__(self, user_dir: Path) -> None:
        to_child_r, self._write = os.pipe()
        self._read, from_child_w = os.pipe()
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-default-apps",
            f"--user-data-dir={user_dir}",
            "--remote-debugging-pipe",
            "--window-size=1200,3000",
            "about:blank",
        ]
        script = f'exec 3<&{to_child_r} 4>&{from_child_w}; exec "$0" "$@"'
        self.proc = subprocess.Popen(
            ["bash", "-c", script, CHROMIUM, *flags],
            pass_fds=(to_child_r, from_child_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer, self._id, self.events = b"", 0, []

    def _messages(self, timeout: float):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                yield json.loads(raw)
            ready, _, _ = select.select([self._read], [], [], 0.2)
            if ready:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    return
                self._buffer += chunk
        msg = "no answer from Chromium"
        raise TimeoutError(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        for reply in self._messages(timeout):
            if reply.get("id") == self._id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)
        return {}

    def wait_for(self, method: str, timeout: float = 60) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        for event in self._messages(timeout):
            self.events.append(event)
            if event.get("method") == method:
                return

    def close(self) -> None:
        with contextlib.suppress(TimeoutError, OSError):
            self.send("Browser.close", timeout=10)
        self.proc.wait(timeout=20)
        os.close(self._write)
        os.close(self._read)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    file = study.init(folder / "study.yaml", example="synthetic")
    text = file.read_text().replace("name: Synthetic", "report:\n  figure_formats: [png]\nname: Synthetic")
    file.write_text(text)
    return study.run(file, progress=False).report


def test_report_is_self_contained(report):
    html = report.read_text()
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert not re.findall(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", html)
    assert not re.findall(r"url\(", html)
    assert html.count('src="data:image/png;base64,') >= 10


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("RG_REQUIRE_CHROMIUM") != "1", reason="chromium not installed")
def test_report_opens_in_headless_chromium(report, tmp_path):
    assert CHROMIUM is not None, "RG_REQUIRE_CHROMIUM=1 but chromium is not installed"
    browser = DevTools(tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": 2400, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.send("Page.navigate", {"url": report.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        headings = browser.send(
            "Runtime.evaluate",
            {
                "expression": "JSON.stringify([...document.querySelectorAll('h2')].map(h => h.textContent))",
                "returnByValue": True,
            },
            session=session,
        )["result"]["value"]
        images = browser.send(
            "Runtime.evaluate",
            {
                "expression": "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length",
                "returnByValue": True,
            },
            session=session,
        )["result"]["value"]
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    finally:
        browser.close()
    assert json.loads(headings) == HEADINGS
    assert images >= 10
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    errors = [
        e
        for e in browser.events
        if e.get("method") in ("Runtime.exceptionThrown", "Log.entryAdded", "Runtime.consoleAPICalled")
    ]
    errors = [
        e
        for e in errors
        if e["method"] == "Runtime.exceptionThrown"
        or e["params"].get("entry", e["params"]).get("level", e["params"].get("type")) == "error"
    ]
    assert errors == []
    png = base64.b64decode(shot)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    (report.parent / "screenshot.png").write_bytes(png)


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "README has no python block"
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for block in blocks:
            exec(compile(block, "README.md", "exec"), {})  # the README's own code
    assert (tmp_path / "cohort.h5mu").is_file() and (tmp_path / "cohort_tables" / "load.R").is_file()
    expected = ("dropped", "var_names are not unique")  # the pairing note; same gene in rna and mut (pyproject)
    unexpected = [str(w.message) for w in caught if not any(e in str(w.message) for e in expected)]
    assert unexpected == []


def test_enrichment_caption_names_the_ranking_and_states_the_fdr(report):
    text = unescape(re.sub(r"<[^>]+>", " ", report.read_text()))
    table = text.split("Top gene sets", 1)[1].split("Methods", 1)[0]
    assert "MOFA factor 1" in table and not re.search(r"\n\s*[123]\s+PLANTED", table)  # mofa:1, not a bare 1
    assert re.search(r"PLANTED_F\d\s+-?\d\.\d+\s+< 0\.02\s", table)
    assert (
        "Patients split at the median of the out-of-fold risk score; Kaplan-Meier curves" in text
    )  # how the groups came
    caption = text.split("Running enrichment score of the top gene set", 1)[1].split("figures/")[0]
    assert re.search(r"\(NES -?\d[\d.]*; p [\d.e-]+; FDR [\d.e-]+", caption), caption
