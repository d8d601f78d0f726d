"""Tools that use the model: calibration, scenario comparison and attribution, sweeps and
sensitivity analysis, reports and figures, and the ``repatriation`` command (``cli.py``).

Nothing in ``sim`` imports this package; the import contracts in ``pyproject.toml`` keep it so.
"""
