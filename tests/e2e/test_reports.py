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


def synthetic_store(tmp_path, values_by_station, low=115.0, high=None, name="pack1.capacity", product="zh-160kwh-16s"):
    """A store made by zhil (one short run creates its schema), filled with runs whose measurement
    takes the given values, oldest first."""
    import sqlite3
    store = tmp_path / "spc.db"
    sc = tmp_path / "tiny.yaml"
    sc.write_text("""scenario: tiny
station: simulated
duration: 10 s
checks:
  - {name: no_unserved_load, always: "hall.p_unserved < 1"}
""")
    r = subprocess.run([ZHIL, "run", sc, "--out", tmp_path / "tiny", "--db", store], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    db = sqlite3.connect(store)
    n = 0
    for station, values in values_by_station.items():
        for k, v in enumerate(values):
            run_id = f"{station}-{k:05d}"
            db.execute("INSERT INTO runs (run_id, kind, station, started_utc, verdict, product) VALUES (?, 'accept', ?, ?, 'PASS', ?)",
                       (run_id, station, f"2026-11-{1 + k // 1000:02d}T00:{(k // 60) % 60:02d}:{k % 60:02d}Z", product))
            db.execute("INSERT INTO measurements (run_id, name, value, unit, low, high, verdict) VALUES (?, ?, ?, 'kWh', ?, ?, 'PASS')",
                       (run_id, name, v, low, high))
            n += 1
    db.commit()
    return store


def western_electric(x, centre, s):
    """The four rules, written independently of zhil: (rule, index) where each fires."""
    hits = set()
    for i in range(len(x)):
        if abs(x[i] - centre) > 3 * s:
            hits.add((1, i))
        for sign in (1, -1):
            beyond = lambda j, k: sign * (x[j] - centre) > k * s
            if i >= 1 and beyond(i, 2) and sum(beyond(j, 2) for j in range(max(0, i - 2), i + 1)) >= 2:
                hits.add((2, i))
            if i >= 3 and beyond(i, 1) and sum(beyond(j, 1) for j in range(max(0, i - 4), i + 1)) >= 4:
                hits.add((3, i))
            if i >= 7 and all(sign * (x[j] - centre) > 0 for j in range(i - 7, i + 1)):
                hits.add((4, i))
    return hits


def test_spc_figures_agree_with_numpy_and_the_rules_fire_where_they_should(tmp_path):
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(7)
    steady = list(rng.normal(128.0, 0.6, 60))
    # Drift on the second station: a shift of +1.5 sigma from run 40 on (rule 4 must fire), and one
    # wild value (rule 1).
    drifting = list(rng.normal(127.5, 0.5, 40)) + list(rng.normal(128.4, 0.5, 25))
    drifting[50] = 135.0
    store = synthetic_store(tmp_path, {"line-a": steady, "line-b": drifting}, low=115.0, high=140.0)
    r = subprocess.run([ZHIL, "spc", "capacity", "--db", store, "--json", "--product", "zh-160kwh-16s", "--html",
                        tmp_path / "spc.html"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [s["station"] for s in out["stations"]] == ["line-a", "line-b"]
    for s, x in zip(out["stations"], (steady, drifting)):
        x = np.array(x)
        mean, sigma = x.mean(), x.std(ddof=1)
        assert s["n"] == len(x)
        assert s["mean"] == pytest.approx(mean, rel=1e-12)
        assert s["sigma"] == pytest.approx(sigma, rel=1e-12)
        assert s["cp"] == pytest.approx((140.0 - 115.0) / (6 * sigma), rel=1e-12)
        assert s["cpk"] == pytest.approx(min(140.0 - mean, mean - 115.0) / (3 * sigma), rel=1e-12)
        sigma_hat = np.abs(np.diff(x)).mean() / 1.128
        assert s["ucl"] == pytest.approx(mean + 3 * sigma_hat, rel=1e-12)
        assert {(h["rule"], h["index"]) for h in s["hits"]} == western_electric(list(x), mean, sigma_hat)
        sub = x[: len(x) // 5 * 5].reshape(-1, 5)
        assert s["xbar"]["centre"] == pytest.approx(sub.mean(axis=1).mean(), rel=1e-12)
        assert s["xbar"]["ucl"] == pytest.approx(sub.mean() + 0.577 * np.ptp(sub, axis=1).mean(), rel=1e-12)
    b = out["stations"][1]
    assert any(h["rule"] == 1 and h["index"] == 50 for h in b["hits"])
    assert any(h["rule"] == 4 for h in b["hits"])
    # The terminal table names the rules; the chart page draws both charts per station, drift marked.
    table = subprocess.run([ZHIL, "spc", "capacity", "--db", store, "--station", "line-b", "--last", "30", "--html",
                            tmp_path / "b.html"], capture_output=True, text=True, cwd=ROOT)
    assert table.returncode == 0 and "rule 1 fires" in table.stdout and "line-a" not in table.stdout, table.stdout
    dom = browser_dom(tmp_path / "spc.html", tmp_path)
    assert 'data-charts="4"' in dom and 'data-drawn="4"' in dom, re.search(r"<body[^>]*>", dom).group(0)
    flagged = re.search(r'id="station-1-i"[^>]*data-flagged="(\d+)"', dom)
    assert flagged and int(flagged.group(1)) == len({h["index"] for h in b["hits"]})
    assert subprocess.run([ZHIL, "spc", "nothing_like_it", "--db", store], capture_output=True).returncode == 1


def test_a_suite_writes_an_html_report_beside_its_markdown_one(tmp_path):
    (tmp_path / "ok.yaml").write_text("""scenario: ok
station: simulated
duration: 1 min
checks:
  - {name: no_unserved_load, always: "hall.p_unserved < 1"}
""")
    (tmp_path / "bad.yaml").write_text("""scenario: bad
station: simulated
duration: 1 min
checks:
  - {name: impossible, always: "grid.f > 100"}
""")
    (tmp_path / "suite.yaml").write_text("""suite: small
scenarios:
  - file: ok.yaml
  - file: bad.yaml
    expect: FAIL
""")
    out = tmp_path / "out"
    r = subprocess.run([ZHIL, "suite", tmp_path / "suite.yaml", "--out", out, "--no-db"], capture_output=True, text=True,
                       cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (out / "report.md").exists() and (out / "report.html").exists()
    dom = browser_dom(out / "report.html", tmp_path)
    assert re.search(r'id="verdict">PASS<', dom)
    rows = re.findall(r'<tr class="scenario" data-verdict="([A-Z ]+)">', dom)
    assert rows == ["PASS", "FAIL"]
    links = re.findall(r'<a href="([^"]+)">report</a>', dom)
    assert links == ["./ok/report.html", "./bad/report.html"] and all((out / link).exists() for link in links)


def test_the_summary_report_ranks_failing_checks_and_charts_pass_rates(tmp_path):
    import sqlite3
    store = synthetic_store(tmp_path, {"line-a": [128.0] * 10, "line-b": [120.0] * 4})
    db = sqlite3.connect(store)
    # line-b: 3 of its 4 runs fail, two of them on the same check.
    for k, check in ((0, "contactor_opens"), (1, "contactor_opens"), (2, "alarm_in_time")):
        db.execute("UPDATE runs SET verdict = 'FAIL' WHERE run_id = ?", (f"line-b-{k:05d}",))
        db.execute("INSERT INTO checks (run_id, name, outcome) VALUES (?, ?, 'FAIL')", (f"line-b-{k:05d}", check))
    db.commit()
    r = subprocess.run([ZHIL, "report", "--db", store, "--product", "zh-160kwh-16s", "--out", tmp_path / "summary.html"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(r"line-a / zh-160kwh-16s\s+10 runs\s+100.0 % pass", r.stdout), r.stdout
    assert re.search(r"line-b / zh-160kwh-16s\s+4 runs\s+25.0 % pass", r.stdout), r.stdout
    dom = browser_dom(tmp_path / "summary.html", tmp_path)
    ranked = re.findall(r'<tr class="ranked"><td>(\d+)</td><td>([^<]+)</td><td>(\d+)</td>', dom)
    assert ranked[:2] == [("1", "contactor_opens", "2"), ("2", "alarm_in_time", "1")], ranked
    plot = re.search(r'<div class="plot" id="pass-rate"([^>]*)>', dom).group(1)
    assert 'data-series="2"' in plot and 'data-drawn="1"' in plot, plot
    assert subprocess.run([ZHIL, "report", "--db", store, "--station", "nowhere", "--out", tmp_path / "x.html"],
                          capture_output=True).returncode == 1


LIVE_SCENARIO = """scenario: live
station: simulated
duration: {duration}
cycle: {cycle}
record_interval: {cycle}
record: [grid.p_import, hall.p_demand]
timeline:
  - {{at: {step}, load: {{power: 1.3 MW}}}}
checks:
  - {{name: no_unserved_load, always: "hall.p_unserved < 1"}}
  - {{name: demand_stays_low, always: "hall.p_demand < 1.2e6"}}
"""


def start_served(tmp_path, duration="12 s", cycle="100 ms", signals="grid.p_import,hall.p_demand", step="7 s"):
    sc = tmp_path / "live.yaml"
    sc.write_text(LIVE_SCENARIO.format(duration=duration, cycle=cycle, step=step))
    p = subprocess.Popen([ZHIL, "run", sc, "--realtime", "--no-db", "--out", tmp_path / "out", "--serve", "127.0.0.1:0",
                          "--serve-signals", signals],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = p.stdout.readline()
    assert line.startswith("live view: http://127.0.0.1:"), line + p.stderr.read()
    return p, line.split()[2]


def test_the_live_view_shows_a_running_bench_in_a_browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    p, url = start_served(tmp_path)
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(a)
    opts.binary_location = CHROMIUM
    from selenium.webdriver.chrome.service import Service
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=opts)
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 30, poll_frequency=0.05)
        body = driver.find_element(By.TAG_NAME, "body")
        wait.until(lambda d: body.get_attribute("data-connected") == "1")
        cell = wait.until(lambda d: (d.find_elements(By.CSS_SELECTOR, 'td[data-signal="hall.p_demand"]') or [None])[0])
        # The demand before the step, then the step at 3 s, seen on the page while the run goes.
        wait.until(lambda d: cell.text not in ("", "—"))
        before, t0 = cell.text, float(body.get_attribute("data-last-t"))
        assert t0 < 7, "the browser connected after the step: nothing left to see change"
        wait.until(lambda d: float(body.get_attribute("data-last-t")) > t0)  # time goes on, on the page
        wait.until(lambda d: cell.text != before)
        assert p.poll() is None, "the run ended before the page saw the change"
        assert int(body.get_attribute("data-frames")) > 3
        # The check on the demand fails at the step: the page says so before the run ends.
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-check="demand_stays_low"]')
        wait.until(lambda d: row.get_attribute("data-state") == "FAIL")
        verdict = driver.find_element(By.ID, "verdict")
        assert verdict.text in ("FAIL so far", "FAIL"), verdict.text
        canvas_drawn = driver.execute_script(
            "const c = document.querySelector('#live canvas'); const g = c.getContext('2d');"
            "const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;"
            "for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;")
        assert canvas_drawn > 0
        wait.until(lambda d: verdict.text == "FAIL")  # the end, pushed too
        driver.save_screenshot(str(tmp_path / "live.png"))
    finally:
        driver.quit()
        p.communicate(timeout=60)
    assert p.returncode == 1


def test_a_client_that_stops_reading_costs_the_run_nothing(tmp_path):
    import socket
    # Every signal of the station in each frame (about 20 kB): the client's buffers fill at once.
    p, url = start_served(tmp_path, duration="6 s", cycle="20 ms", signals="**", step="3 s")
    port = int(url.split(":")[2].split("/")[0])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    # ...and never reads again.
    out, err = p.communicate(timeout=120)
    s.close()
    rec = json.loads((tmp_path / "out" / "record.json").read_text())
    assert rec["run"]["real_time"]["overruns"] == 0, rec["run"]["real_time"]
    assert rec["time"]["cycles"] == 301
    assert any(e["what"].startswith("live view: ") and "frames dropped" in e["what"] for e in rec["events"]), rec["events"]


def test_the_live_view_beyond_loopback_needs_its_token(tmp_path):
    import urllib.request
    import urllib.error
    sc = tmp_path / "live.yaml"
    sc.write_text(LIVE_SCENARIO.format(duration="3 s", cycle="100 ms", step="1 s"))
    # 0.0.0.0 listens everywhere; the test only connects to loopback.
    p = subprocess.Popen([ZHIL, "run", sc, "--realtime", "--no-db", "--out", tmp_path / "out", "--serve", "0.0.0.0:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = p.stdout.readline().split()[2]
        token = url.split("?token=")[1]
        assert len(token) == 32
        port = url.split(":")[2].split("/")[0]
        with pytest.raises(urllib.error.HTTPError) as no:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert no.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/?token=wrong{token[5:]}", timeout=10)
        assert b"<!DOCTYPE html>" in urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token}", timeout=10).read()
    finally:
        p.communicate(timeout=60)


def test_hostile_names_do_not_break_a_report(tmp_path):
    # Names and messages from files reach the page as text and inside its JSON: none may end a
    # script or change how the page is parsed.
    sc = tmp_path / "hostile.yaml"
    sc.write_text("""scenario: hostile
station: simulated
duration: 1 min
record: [grid.f]
timeline:
  - {at: 10 s, load: {power: 900 kW}, note: "x</script><!--<script>alert(1)</script>"}
checks:
  - {name: "c<!--<script>", always: "grid.f > 100"}
""")
    out = tmp_path / "out"
    r = subprocess.run([ZHIL, "run", sc, "--out", out, "--no-db"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    html = (out / "report.html").read_text()
    assert "<!--<script>" not in html and "</script><!--" not in html
    dom = browser_dom(out / "report.html", tmp_path)
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-ready="1"' in body and 'data-drawn="1"' in body, body
    assert attrs(dom, "check-0")["violation"] == "0"
