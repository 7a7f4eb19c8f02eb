"""Example 3: a control core written in Python (reference_core.py, zhil's reference core ported
line for line) runs in the loop in place of the C++ one, and drives the bench exactly as it does."""
import os

import pandas

from reference_core import ReferenceCore

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "..", "grid-outage-island.yaml")


def test_the_reference_core_in_python_drives_the_bench_as_the_cpp_one(run):
    with run(SCENARIO, core=ReferenceCore()) as py:
        rec_py = py.run_to_end()
    with run(SCENARIO) as cpp:
        rec_cpp = cpp.run_to_end()
    assert rec_py.verdict == rec_cpp.verdict == "PASS"
    assert rec_py.core.endswith("ReferenceCore") and rec_cpp.core == "reference"
    pandas.testing.assert_frame_equal(py.timeseries(), cpp.timeseries(), check_exact=True)
