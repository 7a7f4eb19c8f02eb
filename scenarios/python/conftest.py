# Examples run as pytest tests with the zhil plugin: `pytest -p zhil.pytest_plugin scenarios/python`
# (the README's tutorial). This folder's own modules (reference_core.py) import from here.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
