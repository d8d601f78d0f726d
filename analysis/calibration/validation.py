"""Validation checks of a calibration, refitted from its runs (``runs.npz``) without simulating.

Both checks are rejection ABC over the calibration's reference table, as the ``abc`` package's
``cv4abc`` and Prangle et al.'s (2014) coverage test do:

* **Leave-one-out** (``leave_one_out``): for each big documented figure, the runs nearest the
  documents on every other fitted figure (the same number the posterior accepts); what they
  give for the figure left out is its prediction, set beside the documented band. A figure the
  rest of the documents predict is one the model explains, not only fits.
* **Coverage** (``coverage``): runs of the space left stand in for the truth in turn; their own
  figures are the data, the nearest other runs the posterior. Over many such truths, the central
  50% and 90% intervals of each parameter should hold the truth about 50% and 90% of the
  time: if they hold it less often, the posterior is overconfident.

Both reuse the designs the waves chose with every figure in view, so they check the last
(ABC) step of the calibration, not the waves that shaped its design: the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

LEFT_OUT = (
    "departures_total",
    "departures_1960",
    "registrations_1959_1967",
    "cancelled_share_1959_1967",
    "deportee_departures",
)
LEVELS = (0.5, 0.9)


@dataclass(frozen=True)
class ReferenceTable:
    """Every run of a calibration: unit-cube parameters, distance terms, wave, space left."""

    points: np.ndarray  # (runs, parameters) in [0, 1]
    terms: np.ndarray  # (runs, figures): errors in widths
    wave: np.ndarray  # 0: drawn for the posterior
    inside: np.ndarray  # lies in the space the waves left
    figures: tuple[str, ...]
    parameters: tuple[str, ...]

    @classmethod
    def read(cls, path: str | Path) -> ReferenceTable:
        with np.load(path) as table:
            return cls(
                table["points"].astype(float),
                table["terms"].astype(float),
                table["wave"],
                table["inside"],
                tuple(str(f) for f in table["figures"]),
                tuple(str(p) for p in table["parameters"]),
            )


def nearest(terms: np.ndarray, target: np.ndarray, accepted: int) -> np.ndarray:
    """Indices of the ``accepted`` rows of ``terms`` nearest ``target`` (Euclidean; stable)."""
    distances = np.sqrt(((terms - target) ** 2).sum(axis=1))
    return np.argsort(distances, kind="stable")[:accepted]


def leave_one_out(
    table: ReferenceTable,
    widths: dict[str, float],
    bands: dict[str, tuple[float, float]],
    accepted: int,
    keys: tuple[str, ...] = LEFT_OUT,
    units: dict[str, str] | None = None,
) -> list[dict]:
    """Each figure of ``keys`` predicted by the runs nearest the documents on the other figures:
    the prediction's median and 90% interval in the figure's units (documented centre + term x
    width), the documented band, and whether the band meets the interval."""
    rows = []
    for key in keys:
        if key not in table.figures:
            continue
        j = table.figures.index(key)
        others = np.delete(table.terms, j, axis=1)
        chosen = nearest(others, np.zeros(others.shape[1]), accepted)
        low, high = bands[key]
        centre = (low + high) / 2
        predicted = centre + table.terms[chosen, j] * widths[key]
        q05, q50, q95 = np.quantile(predicted, [0.05, 0.5, 0.95])
        rows.append(
            {
                "key": key,
                "unit": (units or {}).get(key, "persons"),
                "low": low,
                "high": high,
                "median": float(q50),
                "q05": float(q05),
                "q95": float(q95),
                "meets": bool(q05 <= high and q95 >= low),
                "median_in_band": bool(low <= q50 <= high),
            }
        )
    return rows


def coverage(table: ReferenceTable, truths: int, accepted: int, rng: np.random.Generator) -> dict:
    """How often the posterior's central intervals hold a known truth: ``truths`` runs of the
    space left in turn, each with the ``accepted`` runs nearest its own figures (itself apart)
    as its posterior. Returns the share covered at each of ``LEVELS``, over all parameters and
    per parameter, and each truth's rank among its posterior's values (uniform if calibrated)."""
    pool = np.flatnonzero(table.inside)
    chosen = rng.choice(pool, size=min(truths, len(pool)), replace=False)
    covered = np.zeros((len(chosen), len(LEVELS), len(table.parameters)), dtype=bool)
    ranks = np.zeros((len(chosen), len(table.parameters)))
    others = np.ones(len(table.terms), dtype=bool)
    for i, truth in enumerate(chosen):
        others[truth] = False
        candidates = np.flatnonzero(others)
        posterior = candidates[nearest(table.terms[others], table.terms[truth], accepted)]
        others[truth] = True
        values, true = table.points[posterior], table.points[truth]
        ranks[i] = (values < true).mean(axis=0)
        for level_index, level in enumerate(LEVELS):
            low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
            covered[i, level_index] = (low <= true) & (true <= high)
    return {
        "truths": len(chosen),
        "accepted": accepted,
        "levels": list(LEVELS),
        "overall": [float(covered[:, k].mean()) for k in range(len(LEVELS))],
        "by_parameter": {
            key: [float(covered[:, k, p].mean()) for k in range(len(LEVELS))]
            for p, key in enumerate(table.parameters)
        },
        "ranks": ranks.tolist(),
    }


def checks(
    calibration: Path, figures, widths: dict[str, float], accepted: int, seed: int, truths: int
) -> dict | None:
    """Both checks for the report, from the calibration folder's ``runs.npz`` (None if it has
    none: a calibration by ABC-SMC, or one written before the table was kept)."""
    path = Path(calibration) / "runs.npz"
    if not path.exists():
        return None
    table = ReferenceTable.read(path)
    bands = {f.key: (f.low, f.high) for f in figures}
    rng = np.random.default_rng(np.random.SeedSequence([seed, 16]))
    return {
        "runs": len(table.terms),
        "inside": int(table.inside.sum()),
        "leave_one_out": leave_one_out(
            table, widths, bands, accepted, units={f.key: f.unit for f in figures}
        ),
        "coverage": coverage(table, truths, accepted, rng),
    }
