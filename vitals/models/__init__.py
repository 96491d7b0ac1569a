"""The tables of city vital signs: indicators, sensors, readings (and their hourly roll-up), warnings and
their history, and the admin's muting (inhibitions, silences).

One idea per module; every public name is re-exported here (`from vitals.models import X`).
"""

# Declaration order: each module only refers to the ones before it.
# isort: off
from .indicators import Direction, Indicator, Level
from .sensors import Sensor
from .readings import Reading, ReadingHourly
from .warnings import OPEN_WARNING_STATES, VitalWarning, WarningAction, WarningKind, WarningRecord, WarningState
from .muting import Inhibition, Silence
# isort: on

__all__ = [
    "OPEN_WARNING_STATES",
    "Direction",
    "Indicator",
    "Inhibition",
    "Level",
    "Reading",
    "ReadingHourly",
    "Sensor",
    "Silence",
    "VitalWarning",
    "WarningAction",
    "WarningKind",
    "WarningRecord",
    "WarningState",
]
