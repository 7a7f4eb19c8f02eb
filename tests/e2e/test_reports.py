"""Reports people look at, opened in a real browser: Debian's chromium, headless, loads the run
report from disk with no network, runs its script, and the test reads what the page says it drew
(data- attributes the plots set once their canvases hold pixels)."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, ZHIL

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browser_dom(html_file, tmp_path):
    """The page's DOM after its scripts ran, as headless Chromium renders it (no network: the
    report must not need one)."""
    assert CHROMIUM, "chromium is not installed (lab/setup.sh installs Debian's chromium)"
    r = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=10000",
                        "--proxy-server=127.0.0.1:9", "--dump-dom", f"file://{html_file}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def attrs(dom, element_id):
    m = re.search(r'<div class="plot" id="%s"([^>]*)>' % re.escape(element_id), dom)
    assert m, f"no plot {element_id} on the page"
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', m.group(1)))


def test_the_run_report_shows_verdict_plots_and_the_marked_violation(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([ZHIL, "run", ROOT / "scenarios/negative/undersized-battery.yaml", "--out", out, "--no-db"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    html = (out / "report.html").read_text()
    # One self-contained file: nothing is fetched (no src=, no href= to anything outside it).
    assert not re.search(r'<script[^>]+src=|<link[^>]+href=', html)
    record = json.loads((out / "record.json").read_text())
    dom = browser_dom(out / "report.html", tmp_path)
    assert re.search(r'id="verdict">FAIL<', dom)
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-ready="1"' in body
    plots = re.findall(r'<div class="plot" id="([^"]+)"', dom)
    # A plot per check and per measurement, each drawn, each with the series its condition reads.
    assert len(plots) == len(record["checks"]) + len(record["measurements"])
    assert f'data-drawn="{len(plots)}"' in body and f'data-plots="{len(plots)}"' in body
    for k, c in enumerate(record["checks"]):
        a = attrs(dom, f"check-{k}")
        assert a["drawn"] == "1" and a["series"] == "1", (c["name"], a)
        if c["verdict"] == "FAIL":
            # The first violation is marked at the evidence's time.
            assert float(a["violation"]) == pytest.approx(c["evidence"]["t"]), a
        else:
            assert "violation" not in a
    failing = [c for c in record["checks"] if c["verdict"] == "FAIL"]
    assert failing, "the negative scenario must fail a check"


def test_a_run_report_names_signals_it_could_not_plot(tmp_path):
    sc = tmp_path / "unrecorded.yaml"
    sc.write_text("""scenario: unrecorded
station: simulated
duration: 2 min
record: [grid.p_import]
checks:
  - {name: cool_and_supplied, always: "pack1.t_max < 60 && grid.p_import < 5e6"}
""")
    out = tmp_path / "run"
    r = subprocess.run([ZHIL, "run", sc, "--out", out, "--no-db"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    dom = browser_dom(out / "report.html", tmp_path)
    a = attrs(dom, "check-0")
    assert a["series"] == "1" and a["drawn"] == "1"
    assert "not recorded" in dom and "pack1.t_max" in dom
