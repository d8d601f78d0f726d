"""Calibration of the baseline to the documented figures: ABC-SMC with pyABC (``smc.py``), the
model as the calibration sees it (``model.py``), priors, the posterior and its report."""
