"""A faithful in-memory DingTalk server for tests and demos (oapi + api hosts on one port, plus ``/_sim/``)."""

from .seed import CorpSpec
from .server import SimConfig, Simulator, SimulatorHandle, start_simulator

__all__ = ["CorpSpec", "SimConfig", "Simulator", "SimulatorHandle", "start_simulator"]
