"""Counterfactual scenarios against the baseline: paired runs (``paired.py``), the attribution of
the baseline's departures to its channels (``attribution.py``), figures and the report."""
