"""Agent-based simulation of the repatriation of Korean residents of Japan to North Korea.

Modules: ``scenario`` (schema and loading), ``population`` (synthetic households), ``decision``
(the monthly rule, pure array functions), ``engine_numpy`` (vectorised engine), ``outputs``
(run directories), ``cli`` (the ``repatriation`` command).
"""

__version__ = "0.1.0"
