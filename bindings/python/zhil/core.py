"""Control cores written in Python."""
from __future__ import annotations

import abc

from . import _zhil

__all__ = ["ControlCore", "CoreContext", "CoreIO", "CoreParams"]

CoreContext = _zhil.CoreContext
CoreIO = _zhil.CoreIO
CoreParams = _zhil.CoreParams


class ControlCore(abc.ABC):
    """The software under test, in Python: it observes signals and writes setpoints once a cycle,
    in the loop exactly where a C++ core runs (simulated or real time), and never calls a device.
    Whatever it writes passes the safety envelope first.

    Subclass it and implement both methods (a subclass missing one cannot be instantiated)::

        class HoldZero(zhil.ControlCore):
            def configure(self, context, io):
                self.p_set = io.command("inv1.p_set")
                self.soc = io.input("pack1.soc")

            def step(self, t, io):
                io.set(self.p_set, 0.0 if io.get(self.soc) < 0.2 else 10e3)

    Resolve names to ids in configure() (an unknown name raises there, before the run starts);
    step() gets and sets by id. An exception in either ends the run as ERROR with the traceback in
    the record, and the bench goes to its safe state. The GIL is taken for these calls only.
    """

    @abc.abstractmethod
    def configure(self, context: CoreContext, io: CoreIO) -> None:
        """Resolve the signals the core reads and writes; read its parameters. Raise to refuse them."""

    @abc.abstractmethod
    def step(self, t: float, io: CoreIO) -> None:
        """One cycle at simulated (or real) time t, in seconds: observe, then set setpoints."""
