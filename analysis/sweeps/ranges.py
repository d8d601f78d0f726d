"""Ranges read from the calibration's posterior: ``range = "posterior"`` in a sweep file.

A sweep over a calibrated parameter should cover the values the calibration found, not numbers
typed once and left behind when the calibration moves. ``posterior_ranges`` reads the posterior
the sweep's base scenario names (``[calibration] posterior``) when the sweep is loaded, so a
new posterior gives new ranges (and new point hashes) without editing a sweep file.

The range of a key is the 5th to the 95th percentile of the posterior sample's parameter sets,
each counted once, widened where needed to hold the calibrated point. Every set met the final
tolerance; a rejection sample's weights are equal, and ABC-SMC's correct for its proposal and,
when they collapse (an effective sample size near 1), shrink a weighted interval to one value.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.calibration.posterior import effective_sample_size, read_posterior
from sim.scenario import ScenarioError, posterior_file

QUANTILES = (0.05, 0.95)


@dataclass(frozen=True)
class PosteriorRanges:
    file: Path
    sha256: str
    sample_size: int  # parameter sets in the posterior sample
    effective_sample_size: float
    point: dict[str, float]
    ranges: dict[str, tuple[float, float]]

    def source(self, key: str) -> str:
        """Where a key's range comes from, in a few words."""
        low, high = QUANTILES
        return f"posterior {low:.0%}-{high:.0%}, with the point {self.point[key]:.6g}"

    def describe(self) -> str:
        return (
            f"ranges from the posterior {self.file} (sha256 {self.sha256[:12]}, "
            f"{self.sample_size} parameter sets, effective sample size "
            f"{self.effective_sample_size:.1f})"
        )

    def record(self) -> dict:
        """What sweep.json keeps of the posterior the ranges came from."""
        return {
            "file": str(self.file),
            "sha256": self.sha256,
            "sample_size": self.sample_size,
            "effective_sample_size": self.effective_sample_size,
            "quantiles": list(QUANTILES),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
        }


def posterior_ranges(scenario_path: Path, integer_keys: set[str]) -> PosteriorRanges:
    """The ranges of every calibrated key of the posterior a scenario names; a ValueError that
    says what is wrong otherwise."""
    try:
        file = posterior_file(scenario_path)
    except ScenarioError as exc:
        raise ValueError(str(exc)) from None
    if file is None:
        raise ValueError(
            f"the base scenario {scenario_path} names no posterior ([calibration] posterior), "
            "so there is no posterior range; give min and max"
        )
    try:
        content = file.read_bytes()
        posterior = read_posterior(file)
        sample, point = posterior["sample"], posterior["point"]
        weights = sample["weight"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"the posterior {file} cannot be read: {exc}") from None
    ranges = {}
    for key in posterior["parameters"]:
        values = np.asarray(sample[key], dtype=float)
        low, high = np.quantile(values, QUANTILES)
        low, high = min(float(low), point[key]), max(float(high), point[key])
        if key in integer_keys:
            low, high = float(math.floor(low)), float(math.ceil(high))
        ranges[key] = (low, high)
    return PosteriorRanges(
        file,
        hashlib.sha256(content).hexdigest(),
        len(weights),
        effective_sample_size(weights),
        dict(point),
        ranges,
    )
