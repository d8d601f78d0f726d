"""Calibration of the baseline to the documented figures: history matching then rejection ABC
(``history_matching.py``, ``matching.py``) or ABC-SMC with pyABC (``smc.py``), from shared inputs
(``setup.py``) and the model as the calibration sees it (``model.py``); priors, the posterior and
its report."""
