"""The posterior: written from pyABC's history, its point estimate, and draws from it.

``posterior.json`` holds the last generation's particles with their weights and distances, and a
point estimate: among the densest particles, the one with the smallest mean distance over
replications. A scenario names it in ``[calibration] posterior = ...`` and runs at that point;
``simulate_posterior`` runs parameter sets drawn from the whole sample, so that bands hold the
uncertainty of the parameters as well as the randomness of a run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from sim.engine_numpy import simulate
from sim.record import Figure
from sim.result import RunResult
from sim.rundir import recorded_path
from sim.scenario import with_parameters
from sim.schema import Scenario
from sim.staging import atomic_write_text

from .model import Simulator, ToleranceDistance, figures_of, particle_seed
from .priors import Prior

POSTERIOR_FORMAT = "repatriation-posterior/1"
# Posterior draws come from SeedSequence(seed, spawn_key=(2,)): no stream of the model has this
# spawn key (Mesa's own are (2, k); sim/streams.py).
DRAW_BRANCH = 2
# ABC-SMC's point: the best of the densest particles by mean distance over replications at the
# calibration scale. History matching's: the best of the nearest runs at full scale (below).
POINT_CANDIDATES, POINT_REPS = 25, 10
# History matching's sample has equal weights, and a kernel density of 100 points in 23
# dimensions says little; the candidates are the runs nearest the documents, ranked at full
# scale, as users run the point (the reduced scale shifts some figures by a few half-widths).
FULL_SCALE_POINT_REPS = 4


def choose_point(
    sample: dict[str, list],
    candidates: Sequence[int],
    simulator: Simulator,
    figures: Sequence[Figure],
    widths: dict[str, float],
    scale: float,
    reps: int,
) -> list[dict]:
    """Rank the ``candidates`` (indices into the sample) by their mean distance over ``reps``
    replications at ``scale``, each seeded by its values (best first).

    The densest particle alone is a poor point when the weights are uneven: it may sit where the
    kernel is crowded rather than where the model fits; one run's distance is noisy. The point
    minimises the expected distance among the candidates.
    """
    distance = ToleranceDistance.of(figures, widths)
    observed = {f.key: f.centre for f in figures}
    ranked = []
    for index in candidates:
        values = {p.key: sample[p.key][index] for p in simulator.priors}
        scenario = with_parameters(simulator.scenario, values, source="point candidate")
        result = simulate(scenario, particle_seed(simulator.seed, values), reps, scale=scale)
        stats = figures_of(result, scale, figures)
        per_rep = [
            distance({k: float(np.nan_to_num(v[r])) for k, v in stats.items()}, observed)
            for r in range(reps)
        ]
        ranked.append({"particle": int(index), "mean_distance": float(np.mean(per_rep))})
    return sorted(ranked, key=lambda c: c["mean_distance"])


def write_posterior(
    history,
    priors: Sequence[Prior],
    figures: Sequence[Figure],
    widths: dict[str, float],
    meta: dict,
    path: Path,
    simulator: Simulator,
) -> Path:
    """ABC-SMC's last generation: its particles, weights and distances, and the point."""
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    populations = history.get_all_populations()
    distances = history.get_weighted_distances(t=history.max_t)["distance"].to_numpy()
    sample = {p.key: [p.from_abc(v) for v in frame[p.name].to_numpy()] for p in priors}
    method = (
        "ABC-SMC (pyabc.ABCSMC), adaptive median epsilon, "
        f"{meta.get('transition', 'normal')} perturbation kernel (covariance x "
        f"{meta.get('kernel_scaling', 1.0):g}), log-uniform priors sampled as log10; "
        "last generation"
    )
    generations = [
        {"t": int(row.t), "epsilon": float(row.epsilon), "simulations": int(row.samples)}
        for row in populations.itertuples()
        if row.t >= 0
    ]
    extra = {
        "generations": generations,
        "prior_calibration_simulations": int(populations.loc[populations.t < 0, "samples"].sum()),
    }
    density = kernel_density(
        np.column_stack([p.to_unit(np.asarray(sample[p.key], dtype=float)) for p in priors]),
        np.asarray(weights, dtype=float),
    )
    candidates = choose_point(
        sample,
        np.argsort(-density, kind="stable")[:POINT_CANDIDATES],
        simulator,
        figures,
        widths,
        simulator.scale,
        POINT_REPS,
    )
    rule = (
        f"among the {len(candidates)} particles with the highest weighted kernel density "
        "(parameters scaled to their prior ranges), the one with the smallest mean distance "
        f"over {POINT_REPS} replications at the calibration scale"
    )
    return write_sample(
        path,
        method,
        sample,
        weights,
        distances,
        priors,
        figures,
        widths,
        meta,
        extra,
        (rule, candidates),
    )


def write_sample(
    path: Path,
    method: str,
    sample: dict[str, list],
    weights,
    distances,
    priors: Sequence[Prior],
    figures: Sequence[Figure],
    widths: dict[str, float],
    meta: dict,
    extra: dict,
    point: tuple[str, list[dict]],
) -> Path:
    """A weighted posterior sample (values by key), how it was made (``extra``), and its point:
    the rule that chose it and the candidates ranked by it (``choose_point``)."""
    rule, candidates = point
    point_index = candidates[0]["particle"]
    point = {p.key: sample[p.key][point_index] for p in priors}
    document = {
        "format": POSTERIOR_FORMAT,
        "method": method,
        "point_rule": rule,
        "point": point,
        "point_candidates": candidates,
        "parameters": [p.key for p in priors],
        "sample": {
            "weight": [float(w) for w in weights],
            "distance": [float(d) for d in distances],
            **sample,
        },
        "distance": {
            "kind": "euclidean, each target divided by sqrt(half_width^2 + noise^2)",
            "widths": widths,
            "centres": {f.key: f.centre for f in figures},
        },
        **extra,
        "run": {k: v for k, v in meta.items() if k != "noise"},
        "package": _package_versions(),
    }
    atomic_write_text(path, json.dumps(document, indent=1))
    return path


def effective_sample_size(weights) -> float:
    """Kish's effective sample size, 1 / sum(w^2) of the normalised weights."""
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    return float(1.0 / np.sum(weights**2))


def effective_sample_sizes(history) -> list[float]:
    """``effective_sample_size`` of every generation of a pyABC history."""
    return [
        effective_sample_size(history.get_distribution(m=0, t=t)[1])
        for t in range(history.max_t + 1)
    ]


def kernel_density(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted Gaussian kernel density of the sample at each of its points
    (``scipy.stats.gaussian_kde``, Scott's bandwidth on the effective sample size).

    Where no density can be formed, because the points span fewer dimensions than they have
    (fewer points than parameters, or a parameter that does not vary), the weights stand for it:
    the heaviest points are then the densest.
    """
    from scipy.stats import gaussian_kde

    points = np.asarray(points, dtype=float)
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    try:
        return gaussian_kde(points.T, bw_method="scott", weights=weights)(points.T)
    except ValueError:  # numpy's LinAlgError (a singular covariance) is one
        return weights


def highest_density(points: np.ndarray, weights: np.ndarray) -> int:
    """Index of the point with the highest weighted kernel density among the points."""
    return int(np.argmax(kernel_density(points, weights)))


def _package_versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {}
    for name in ("repatriation-sim", "pyabc", "numpy"):
        try:
            out[name] = version(name)
        except Exception:
            out[name] = "unknown"
    return out


def read_posterior(path: str | Path) -> dict:
    path = Path(path)
    document = json.loads(path.read_text())
    if document.get("format") != POSTERIOR_FORMAT:
        raise ValueError(f"{path}: not a posterior file (format {document.get('format')!r})")
    return document


def posterior_draws(posterior: dict, draws: int, seed: int) -> list[dict[str, float]]:
    """``draws`` parameter sets resampled from the weighted posterior sample (reproducible)."""
    sample = posterior["sample"]
    weights = np.asarray(sample["weight"], dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DRAW_BRANCH,)))
    chosen = rng.choice(len(weights), size=draws, replace=True, p=weights / weights.sum())
    return [{key: sample[key][i] for key in posterior["parameters"]} for i in chosen]


def draws_record(posterior_path: Path, draws: int, reps_per_draw: int, drawn: list[dict]) -> dict:
    """What a run over posterior draws records in its manifest."""
    return {
        "posterior_file": recorded_path(posterior_path),
        "posterior_sha256": hashlib.sha256(Path(posterior_path).read_bytes()).hexdigest(),
        "draws": draws,
        "reps_per_draw": reps_per_draw,
        "rule": "draw i resampled with SeedSequence(seed, spawn_key=(2,)); runs replications "
        "i*reps_per_draw .. (i+1)*reps_per_draw-1",
        "parameters": drawn,
    }


def simulate_posterior(
    scenario: Scenario,
    posterior: dict,
    seed: int,
    draws: int,
    reps_per_draw: int = 1,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> tuple[RunResult, list[dict[str, float]]]:
    """Runs whose bands hold parameter uncertainty as well as the randomness of a run.

    Draw i (resampled from the posterior with ``seed``) runs replications
    ``i * reps_per_draw ... (i + 1) * reps_per_draw - 1`` of ``seed``: each replication is
    exactly that replication of a plain run of the drawn parameters, whatever the number of draws.
    A calibrated key that the scenario itself sets to another value (a counterfactual that
    switches peers off, say: ``Calibration.overridden``) keeps the scenario's value in every
    draw. ``progress`` is told as each draw starts. Returns the run and the values each draw set.
    """
    own = set(scenario.calibration.overridden) if scenario.calibration else set()
    parameter_sets = [
        {key: value for key, value in values.items() if key not in own}
        for values in posterior_draws(posterior, draws, seed)
    ]
    results = []
    for i, values in enumerate(parameter_sets):
        if progress:
            progress(f"posterior draw {i + 1}")
        drawn = with_parameters(scenario, values, source=f"posterior draw {i}")
        reps = range(i * reps_per_draw, (i + 1) * reps_per_draw)
        results.append(simulate(drawn, seed, reps, scale=scale, progress=False))
    return RunResult.concatenate(results), parameter_sets
