"""The exceptions zhil raises: C++ errors arrive as these, with the same message and context.

``Error`` is the base of them all. Configuration errors carry where they were found
(``file``, ``line``, ``column``: the scenario or station file, or the Python line that built a
scenario); device errors carry the ``device`` and, for a register, the ``register``.
"""
from __future__ import annotations

import re
from typing import Optional

__all__ = ["Error", "ConfigError", "ScenarioError", "StationError", "DeviceError", "ControlCoreError",
           "SignalError", "RunError", "ResultsFolderError", "ResultsStoreError"]

_LOCATED = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+)(?::(?P<column>\d+))?: ")
_DEVICE = re.compile(r"(?:^|: |device lost: )device (?P<device>[A-Za-z0-9_.\-]+)")
_REGISTER = re.compile(r"\bregister (?P<register>\d+)")


class Error(Exception):
    """Any error zhil reports. ``str(e)`` is the message as the zhil program prints it."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message: str = message


class ConfigError(Error):
    """A file (scenario, station, fixture, map) or a parameter is wrong.

    ``file``, ``line`` and ``column`` say where (``column`` is None when only a line is known).
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        m = _LOCATED.match(message)
        self.file: Optional[str] = m.group("file") if m else None
        self.line: Optional[int] = int(m.group("line")) if m else None
        self.column: Optional[int] = int(m.group("column")) if m and m.group("column") else None


class ScenarioError(ConfigError):
    """The scenario is wrong: its file (file:line:column), or the Python call that built or drove it."""


class StationError(ConfigError):
    """The station file, or a fixture it names, is wrong (file:line:column)."""


class DeviceError(Error):
    """A device failed: not reachable, lost during the run, refused a write, answered garbage.

    ``device`` names it; ``register`` is the Modbus register when the error is about one.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        m = _DEVICE.search(message)
        self.device: Optional[str] = m.group("device") if m else None
        r = _REGISTER.search(message)
        self.register: Optional[int] = int(r.group("register")) if r else None


class ControlCoreError(Error):
    """The control core failed: a Python core raised (its traceback is in the message and the
    record), or a core could not be found or configured."""


class SignalError(Error, KeyError):
    """No signal of that name on the station, or one that may not be set from a script."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class RunError(Error):
    """The run ended as ERROR for a reason of the bench or the harness (not the device under test)."""


class ResultsFolderError(Error):
    """The results folder cannot be used (in use by another run, holds results, not writable)."""


class ResultsStoreError(Error):
    """The results store (db=, $ZHIL_DB) cannot be opened: nothing was run or created."""
