"""How responsive the run report of the 24 h one-pack run (86,400 rows at 1 s) is to zoom and pan
in headless Chromium: each plot zoomed to one hour and panned across the day, redrawn each time,
timed in the page. Run build/bin/zhil_report_bench first (it writes build/bench-report/report.html).
  /usr/bin/python3 tests/bench/report_zoom_bench.py [build/bench-report/report.html]"""
import pathlib
import shutil
import statistics
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

report = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench-report/report.html").resolve()
opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tempfile.mkdtemp()}",
          "--window-size=1280,1000"):
    opts.add_argument(a)
opts.binary_location = shutil.which("chromium")
driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=opts)
try:
    driver.get(report.as_uri())
    plots, points = driver.execute_script(
        "return [window.zhilPlots.length, window.zhilPlots.reduce((n, u) => n + (u.data.length - 1) * u.data[0].length, 0)]")
    # Each step: every plot set to a one-hour window (a zoom, then 23 pans across the day), drawn.
    # uPlot redraws in a microtask after setScale: the time is taken after it has run.
    ms = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => {
          const out = [];
          const step = async (f) => {
            const t0 = performance.now();
            for (const u of window.zhilPlots) f(u);
            await Promise.resolve(); await Promise.resolve();
            out.push(performance.now() - t0);
          };
          for (let h = 0; h < 24; h++) await step(u => u.setScale('x', { min: h * 3600, max: (h + 1) * 3600 }));
          await step(u => u.setScale('x', { min: u.data[0][0], max: u.data[0][u.data[0].length - 1] }));
          done(out);
        })();""")
    print(f"{report}: {plots} plots, {points} points in all")
    print(f"zoom to one hour and pan across the day, every plot redrawn: median {statistics.median(ms[:24]):.1f} ms "
          f"a step, max {max(ms[:24]):.1f} ms; back to the whole day: {ms[24]:.1f} ms")
finally:
    driver.quit()
