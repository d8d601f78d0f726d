"""Calibration of the baseline to the documented record: ABC-SMC with pyABC.

What is fitted: the free parameters listed with their priors in ``analysis/priors.toml``
(weights and rates marked ASSUMPTION in the scenario); every other value of the scenario
(documented shares, the dated policy levers) stays as the scenario file says.

To what: the documented figures of ``analysis/targets.toml`` with ``fit = true`` (see
``sim/record.py``), each compared as a full-population equivalent.

How: approximate Bayesian computation by sequential Monte Carlo (pyABC's ``ABCSMC``). Each
particle is one replication of the numpy engine at a reduced ``scale``; counts are divided by the
scale. The distance is a Euclidean distance in which each target's error is divided by
``sqrt(half_width^2 + noise^2)``: the half-width of the target's tolerance band, widened by the
sampling noise of that figure at the calibration scale (measured, before calibrating, from
replications at the priors' ``start`` point). The target thus weighs by how precisely the
document states it, unless the reduced-scale model cannot resolve it that finely.

Where: pyABC's SQLite history (``abc.db``); a killed calibration resumes from its last complete
generation (``ABCSMC.load``). The result is ``posterior.json``: the last generation's particles
with their weights and distances, and a point estimate (the particle of highest posterior
density), which ``scenarios/historical.toml`` points to with ``[calibration] posterior = ...``.

Reproducibility: each particle's simulation seed is a hash of the base seed and its parameter
values, so the model is a deterministic function of the parameters; with the single-core sampler
(the default) and a fixed ``--seed``, pyABC's proposals are drawn from numpy's global generator,
seeded here, and a run from scratch is repeated exactly. pyABC's multicore samplers (``--workers``
> 1) reseed their worker processes from the operating system, so their proposals, and hence the
posterior sample, differ from run to run (in distribution, not in substance); so does a run that
was interrupted and resumed.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .engine_numpy import RunResult, simulate
from .record import FIGURES, TARGETS_FILE, Figure, load_targets
from .scenario import (
    ScenarioError,
    Scenario,
    _model_at,
    _range_of,
    load_scenario,
    posterior_file,
    read_toml,
    with_parameters,
)

ROOT = Path(__file__).resolve().parents[1]
PRIORS_FILE = ROOT / "analysis" / "priors.toml"
OUT_DIR = ROOT / "analysis" / "calibration"
HISTORICAL = ROOT / "scenarios" / "historical.toml"
POSTERIOR_FORMAT = "repatriation-posterior/1"
_DRAW_BRANCH = 2  # SeedSequence(seed, spawn_key=(2,)) picks posterior draws (0, 1: engine)


# ----------------------------------------------------------------------------------------------
# Priors
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    key: str  # dotted scenario key, e.g. "decision.peers"
    dist: str  # "uniform" or "loguniform"
    low: float
    high: float
    start: float
    integer: bool = False
    reason: str = ""

    @property
    def name(self) -> str:
        """The parameter's name in pyABC's database (dots are not safe there).

        A log-uniform parameter is sampled by pyABC as its base-10 logarithm (uniform prior),
        so that the perturbation kernel moves it by factors rather than by amounts: on the raw
        scale the kernel is far too wide near ``low`` and too narrow near ``high``, and the
        importance weights (prior / proposal) swing with the 1 / x prior density.
        """
        base = self.key.replace(".", "__")
        return f"{base}__log10" if self.dist == "loguniform" else base

    def value(self, drawn: float) -> float | int:
        return int(round(drawn)) if self.integer else float(drawn)

    def from_abc(self, x: float) -> float | int:
        """The scenario value of pyABC's parameter ``x`` (10 ** x for a log-uniform prior)."""
        return self.value(10.0 ** x if self.dist == "loguniform" else x)

    def rv(self):
        import pyabc

        if self.dist == "uniform":
            return pyabc.RV("uniform", self.low, self.high - self.low)
        low, high = math.log10(self.low), math.log10(self.high)
        return pyabc.RV("uniform", low, high - low)


class PriorsError(ValueError):
    """The priors file is invalid; the message names the file and the key."""


def load_priors(path: str | Path = PRIORS_FILE) -> tuple[Prior, ...]:
    path = Path(path)
    entries = read_toml(path, PriorsError, "priors").get("parameter", [])
    priors, seen = [], set()
    for i, entry in enumerate(entries):
        key = entry.get("key", "?")
        where = f"{path}: parameter[{i}] key '{key}'"
        try:
            prior = Prior(key=entry["key"], dist=entry["dist"], low=float(entry["low"]),
                          high=float(entry["high"]), start=float(entry["start"]),
                          integer=bool(entry.get("integer", False)), reason=entry.get("reason", ""))
        except KeyError as exc:
            raise PriorsError(f"{where}: missing {exc}") from None
        section, _, field = key.partition(".")
        try:
            model = _model_at((section, field))
            allowed = _range_of(model, field)
        except (KeyError, AttributeError, TypeError):
            raise PriorsError(f"{where}: not a parameter of the scenario schema") from None
        if prior.dist not in ("uniform", "loguniform"):
            raise PriorsError(f"{where}: dist must be 'uniform' or 'loguniform'")
        if not allowed[0] <= prior.low < prior.high <= allowed[1]:
            raise PriorsError(f"{where}: [{prior.low}, {prior.high}] must be a range inside the "
                              f"key's allowed {allowed[0]}..{allowed[1]}")
        if prior.dist == "loguniform" and prior.low <= 0:
            raise PriorsError(f"{where}: a loguniform prior needs low > 0")
        if not prior.low <= prior.start <= prior.high:
            raise PriorsError(f"{where}: start {prior.start} is outside [{prior.low}, {prior.high}]")
        if key in seen:
            raise PriorsError(f"{where}: appears twice")
        seen.add(key)
        priors.append(prior)
    if not priors:
        raise PriorsError(f"{path}: no [[parameter]]")
    return tuple(priors)


# ----------------------------------------------------------------------------------------------
# The model as pyABC sees it: parameters in, documented figures out
# ----------------------------------------------------------------------------------------------


def fitted_figures(targets: Sequence[Figure]) -> tuple[Figure, ...]:
    """The figures the calibration fits: ``fit`` targets of the repatriation stage (1955-1984).

    After-arrival targets (``stage = "aftermath"``) describe what happened in the North; the
    baseline's free parameters do not act on them, so they are never fitted here.
    """
    return tuple(f for f in targets if f.fit and f.stage != "aftermath")


def base_scenario(path: str | Path, priors: Sequence[Prior]) -> Scenario:
    """The scenario with its calibration ignored and the free keys at their ``start`` values.

    The calibration must not depend on an earlier posterior; every simulation sets every free key.
    """
    return load_scenario(path, calibration=False,
                         fill={p.key: p.value(p.start) for p in priors})


def particle_seed(seed: int, values: dict[str, float]) -> int:
    """A simulation seed that is a function of the base seed and the parameter values."""
    text = json.dumps({"seed": seed, **{k: repr(float(v)) for k, v in sorted(values.items())}})
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def figures_of(result: RunResult, scale: float, figures: Sequence[Figure]) -> dict[str, np.ndarray]:
    """Full-population equivalents of each figure, one value per replication."""
    return {f.key: f.full_scale(f.measure(result), scale) for f in figures}


@dataclass
class Simulator:
    """Picklable model for pyABC: one replication at ``scale`` per parameter set."""

    scenario: Scenario
    priors: tuple[Prior, ...]
    figures: tuple[Figure, ...]
    scale: float
    seed: int

    def values(self, parameters: dict[str, float]) -> dict[str, float]:
        by_name = {p.name: p for p in self.priors}
        return {by_name[name].key: by_name[name].from_abc(v) for name, v in parameters.items()}

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        values = self.values(dict(parameters))
        scenario = with_parameters(self.scenario, values, source="calibration particle")
        result = simulate(scenario, particle_seed(self.seed, values), 1, scale=self.scale)
        stats = figures_of(result, self.scale, self.figures)
        return {key: float(np.nan_to_num(v[0])) for key, v in stats.items()}


@dataclass
class ToleranceDistance:
    """sqrt(sum_i ((x_i - centre_i) / width_i)^2), width_i = sqrt(half_width_i^2 + noise_i^2)."""

    widths: dict[str, float]

    def __call__(self, x: dict, x0: dict, *args: Any, **kwargs: Any) -> float:
        return math.sqrt(sum(((x[k] - x0[k]) / w) ** 2 for k, w in self.widths.items()))

    def terms(self, x: dict, x0: dict) -> dict[str, float]:
        return {k: (x[k] - x0[k]) / w for k, w in self.widths.items()}


def measure_noise(scenario: Scenario, scale: float, seed: int, reps: int,
                  figures: Sequence[Figure]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation across replications of each figure at ``scale``."""
    result = simulate(scenario, seed, reps, scale=scale)
    return {k: {"mean": float(np.nanmean(v)), "sd": float(np.nanstd(v, ddof=1))}
            for k, v in figures_of(result, scale, figures).items()}


def widths_of(figures: Sequence[Figure], noise: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f.key: math.sqrt(f.half_width ** 2 + noise[f.key]["sd"] ** 2) for f in figures}


# ----------------------------------------------------------------------------------------------
# Running ABC-SMC, resumably
# ----------------------------------------------------------------------------------------------


@dataclass
class Settings:
    scenario: Path = HISTORICAL
    priors: Path = PRIORS_FILE
    targets: Path = TARGETS_FILE
    out: Path = OUT_DIR
    scale: float = 0.05
    seed: int = 1959
    population_size: int = 400
    generations: int = 25
    max_simulations: int = 40000
    max_minutes: float = 42.0
    noise_reps: int = 30
    workers: int = 1
    resume: bool = False
    transition: str = "normal"  # pyABC's perturbation kernel: "local" or "normal" (see TRANSITIONS)
    # Multiplies the kernel's covariance (pyABC's ``scaling``). Measured on a pilot (16
    # parameters, 80 particles, scale 0.02): effective sample sizes 80, 2.6, 7.6, 1.8, 1.1 in
    # generations 0-4 with pyABC's default 1, and 80, 30.0, 8.8, 10.2 with 2.5, at about the same
    # acceptance rate. A kernel narrower than the shrinking acceptance region makes the proposal
    # density, and so the weights prior / proposal, vary by orders of magnitude in 16 dimensions.
    kernel_scaling: float = 2.5


# pyABC's perturbation kernels. "normal": one multivariate normal with the covariance of the whole
# weighted sample (pyABC's default); "local": a normal around each particle with the covariance of
# its nearest quarter of the particles (pyABC's LocalTransition). The default is "normal": on a
# pilot (16 parameters, 80 particles) the local kernel's covariances, estimated from 20 particles
# in 16 dimensions, are nearly singular, and its effective sample size fell to 1.7 of 80 in
# generation 1 (3.4 and 6.8 in generations 2 and 3).
TRANSITIONS = ("local", "normal")


def _transition(name: str, scaling: float = 1.0):
    import pyabc

    if name == "local":
        return pyabc.LocalTransition(k_fraction=0.25, scaling=scaling)
    if name == "normal":
        return pyabc.MultivariateNormalTransition(scaling=scaling)
    raise ValueError(f"unknown transition {name!r} (allowed: {', '.join(TRANSITIONS)})")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def calibrate(settings: Settings, log=print) -> Path:
    """Run (or resume) ABC-SMC and write ``posterior.json``; returns its path."""
    import pyabc

    started = time.perf_counter()
    priors = load_priors(settings.priors)
    figures = fitted_figures(load_targets(settings.targets))
    scenario = base_scenario(settings.scenario, priors)
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "abc.db"
    meta_path = out / "calibration_run.json"

    if settings.resume:
        if not db_path.is_file() or not meta_path.is_file():
            raise FileNotFoundError(f"nothing to resume: {db_path} or {meta_path} is missing")
        meta = json.loads(meta_path.read_text())
        _check_same_inputs(meta, settings)
        noise = meta["noise"]
    else:
        if db_path.exists():
            db_path.unlink()
        log(f"measuring the sampling noise at scale {settings.scale} "
            f"({settings.noise_reps} replications at the priors' start point)")
        noise = measure_noise(scenario, settings.scale, settings.seed, settings.noise_reps, figures)
        meta = {
            "format": "repatriation-calibration-run/1",
            "scenario_file": _rel(settings.scenario),
            "scenario_sha256": scenario.digest(),
            "priors_file": _rel(settings.priors), "priors_sha256": _sha256(settings.priors),
            "targets_file": _rel(settings.targets), "targets_sha256": _sha256(settings.targets),
            "fitted_targets_sha256": fitted_digest(figures),
            "scale": settings.scale, "seed": settings.seed,
            "population_size": settings.population_size, "workers": settings.workers,
            "transition": settings.transition, "kernel_scaling": settings.kernel_scaling,
            "pyabc_log10_parameters": [
                p.key for p in priors if p.dist == "loguniform"],
            "noise_reps": settings.noise_reps, "noise": noise,
            "sessions": [],
        }
    widths = widths_of(figures, noise)
    distance = ToleranceDistance(widths)
    simulator = Simulator(scenario, priors, figures, settings.scale, settings.seed)
    observed = {f.key: f.centre for f in figures}
    prior = pyabc.Distribution(**{p.name: p.rv() for p in priors})

    np.random.seed(settings.seed % 2**32)
    random.seed(settings.seed)
    if settings.workers > 1:
        sampler = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=settings.workers)
    else:
        sampler = pyabc.sampler.SingleCoreSampler()
    abc = pyabc.ABCSMC(simulator, prior, distance, population_size=settings.population_size,
                       sampler=sampler,
                       transitions=_transition(settings.transition, settings.kernel_scaling))
    db = f"sqlite:///{db_path.resolve()}"
    if settings.resume:
        history = abc.load(db, 1)
        done = history.max_t + 1
        log(f"resuming from {db_path}: {done} generation(s) done, "
            f"{history.total_nr_simulations} simulations")
    else:
        abc.new(db, observed)
        done = 0
    remaining = settings.generations - done
    session_start = time.perf_counter()
    if remaining > 0:
        spent = sum(s["wall_seconds"] for s in meta["sessions"])
        from datetime import timedelta

        history = abc.run(
            max_nr_populations=remaining,
            max_total_nr_simulations=settings.max_simulations,
            max_walltime=timedelta(seconds=max(settings.max_minutes * 60 - spent, 60)),
        )
    else:
        history = abc.history
    session = {
        "started_generations": done,
        "abc_seconds": round(time.perf_counter() - session_start, 1),
        "workers": settings.workers,
    }
    meta["sessions"].append(session)
    meta["generations"] = int(history.max_t + 1)
    meta["total_simulations"] = int(history.total_nr_simulations)
    meta["noise_simulations"] = settings.noise_reps
    meta["point_simulations"] = POINT_CANDIDATES * POINT_REPS
    selecting = time.perf_counter()
    path = write_posterior(history, priors, figures, widths, meta, out / "posterior.json",
                           simulator)
    session["point_seconds"] = round(time.perf_counter() - selecting, 1)
    # The whole session: noise (a fresh start), ABC generations, choice of the point.
    session["wall_seconds"] = round(time.perf_counter() - started, 1)
    meta_path.write_text(json.dumps(meta, indent=2))
    log(f"wrote {path}: {meta['generations']} generations, {meta['total_simulations']} "
        f"simulations, {sum(s['wall_seconds'] for s in meta['sessions']):.0f} s in all")
    return path


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def fitted_digest(figures: Sequence[Figure]) -> str:
    """A hash of what the distance reads from the targets file: each fitted figure's key,
    measure, metric, period and band. Other edits of the file (comments, quotes, targets that
    are not fitted, such as the after-arrival stage's) leave it unchanged."""
    text = json.dumps([[f.key, f.kind, f.metric, list(f.period), f.unit, f.low, f.high]
                       for f in figures])
    return hashlib.sha256(text.encode()).hexdigest()


def _check_same_inputs(meta: dict, settings: Settings) -> None:
    if meta["priors_sha256"] != _sha256(settings.priors):
        raise ValueError(f"cannot resume: {settings.priors} changed since the calibration "
                         "started; start afresh (without --resume)")
    figures = fitted_figures(load_targets(settings.targets))
    if meta.get("fitted_targets_sha256", meta["targets_sha256"]) != fitted_digest(figures):
        raise ValueError(f"cannot resume: the fitted targets of {settings.targets} changed since "
                         "the calibration started; start afresh (without --resume)")
    if (meta.get("transition", "normal"), meta.get("kernel_scaling", 1.0)) != (
            settings.transition, settings.kernel_scaling):
        raise ValueError(f"cannot resume with another --transition or --kernel-scaling (the run "
                         f"used {meta.get('transition', 'normal')!r}, "
                         f"{meta.get('kernel_scaling', 1.0)}); start afresh")
    if meta["scale"] != settings.scale or meta["seed"] != settings.seed:
        raise ValueError("cannot resume with another --scale or --seed; start afresh")


POINT_CANDIDATES, POINT_REPS = 25, 10


def choose_point(sample: dict[str, list], density: np.ndarray, simulator: "Simulator",
                 figures: Sequence[Figure], widths: dict[str, float]) -> list[dict]:
    """Rank the densest particles by their mean distance over replications (best first).

    The densest particle alone is a poor point when the weights are uneven: it may sit where the
    kernel is crowded rather than where the model fits. Each candidate runs ``POINT_REPS``
    replications (seeded by its values) at the calibration scale; the point minimises the
    expected distance among them.
    """
    distance = ToleranceDistance(widths)
    observed = {f.key: f.centre for f in figures}
    ranked = []
    for index in np.argsort(-density, kind="stable")[:POINT_CANDIDATES]:
        values = {p.key: sample[p.key][index] for p in simulator.priors}
        scenario = with_parameters(simulator.scenario, values, source="point candidate")
        result = simulate(scenario, particle_seed(simulator.seed, values), POINT_REPS,
                          scale=simulator.scale)
        stats = figures_of(result, simulator.scale, figures)
        per_rep = [distance({k: float(np.nan_to_num(v[r])) for k, v in stats.items()}, observed)
                   for r in range(POINT_REPS)]
        ranked.append({"particle": int(index), "density": float(density[index]),
                       "mean_distance": float(np.mean(per_rep))})
    return sorted(ranked, key=lambda c: c["mean_distance"])


def write_posterior(history, priors: Sequence[Prior], figures: Sequence[Figure],
                    widths: dict[str, float], meta: dict, path: Path,
                    simulator: "Simulator") -> Path:
    """The last generation's particles, their weights and distances, and the point estimate."""
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    populations = history.get_all_populations()
    distances = history.get_weighted_distances(t=history.max_t)
    sample = {p.key: [p.from_abc(v) for v in frame[p.name].to_numpy()] for p in priors}
    density = kernel_density(np.column_stack([_unit(p, np.asarray(sample[p.key], dtype=float))
                                              for p in priors]), weights)
    candidates = choose_point(sample, density, simulator, figures, widths)
    point_index = candidates[0]["particle"]
    point = {p.key: sample[p.key][point_index] for p in priors}
    document = {
        "format": POSTERIOR_FORMAT,
        "method": "ABC-SMC (pyabc.ABCSMC), adaptive median epsilon, "
                  f"{meta.get('transition', 'normal')} perturbation kernel (covariance x "
                  f"{meta.get('kernel_scaling', 1.0):g}), log-uniform priors sampled as log10; "
                  "last generation",
        "point_rule": f"among the {len(candidates)} particles of the last generation with the "
                      "highest weighted kernel density (parameters scaled to their prior ranges), "
                      f"the one with the smallest mean distance over {POINT_REPS} replications at "
                      "the calibration scale",
        "point": point,
        "point_candidates": candidates,
        "parameters": [p.key for p in priors],
        "sample": {"weight": [float(w) for w in weights],
                   "distance": [float(d) for d in distances["distance"].to_numpy()],
                   **sample},
        "distance": {"kind": "euclidean, each target divided by sqrt(half_width^2 + noise^2)",
                     "widths": widths,
                     "centres": {f.key: f.centre for f in figures}},
        "generations": [{"t": int(row.t), "epsilon": float(row.epsilon),
                         "simulations": int(row.samples)}
                        for row in populations.itertuples() if row.t >= 0],
        "prior_calibration_simulations": int(populations.loc[populations.t < 0, "samples"].sum()),
        "run": {k: v for k, v in meta.items() if k != "noise"},
        "package": _package_versions(),
    }
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(document, indent=1))
    tmp.replace(path)
    return path


def _unit(prior: Prior, values: np.ndarray) -> np.ndarray:
    if prior.dist == "loguniform":
        return (np.log(values) - math.log(prior.low)) / (math.log(prior.high) - math.log(prior.low))
    return (values - prior.low) / (prior.high - prior.low)


def kernel_density(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted Gaussian kernel density of the sample at each of its points.

    One bandwidth per dimension (Scott's rule on the weighted standard deviation and the
    effective sample size), so it works for any number of points, even fewer than dimensions.
    """
    points = np.asarray(points, dtype=float)
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    n, dims = points.shape
    mean = weights @ points
    sd = np.sqrt(weights @ (points - mean) ** 2)
    ess = 1.0 / np.sum(weights ** 2)
    bandwidth = np.where(sd > 0, sd, 1.0) * ess ** (-1.0 / (dims + 4))
    scaled = points / bandwidth
    squared = ((scaled[:, None, :] - scaled[None, :, :]) ** 2).sum(axis=2)
    return np.exp(-0.5 * squared) @ weights


def highest_density(points: np.ndarray, weights: np.ndarray) -> int:
    """Index of the point with the highest weighted kernel density among the points."""
    return int(np.argmax(kernel_density(points, weights)))


def _package_versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {}
    for name in ("repatriation-sim", "pyabc", "numpy"):
        try:
            out[name] = version(name)
        except Exception:  # noqa: BLE001
            out[name] = "unknown"
    return out


# ----------------------------------------------------------------------------------------------
# Using a posterior: the point, and draws for bands with parameter uncertainty
# ----------------------------------------------------------------------------------------------


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
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_DRAW_BRANCH,)))
    chosen = rng.choice(len(weights), size=draws, replace=True, p=weights / weights.sum())
    return [{key: sample[key][i] for key in posterior["parameters"]} for i in chosen]


def simulate_posterior(scenario: Scenario, posterior: dict, seed: int, draws: int,
                       reps_per_draw: int = 1, scale: float = 1.0,
                       progress: bool = False) -> tuple[RunResult, list[dict[str, float]]]:
    """Runs whose bands hold parameter uncertainty as well as the randomness of a run.

    Draw i (resampled from the posterior with ``seed``) runs replications
    ``i * reps_per_draw ... (i + 1) * reps_per_draw - 1`` of ``seed``: each replication is
    exactly that replication of a plain run of the drawn parameters, whatever the number of draws.
    """
    parameter_sets = posterior_draws(posterior, draws, seed)
    results = []
    for i, values in enumerate(parameter_sets):
        drawn = with_parameters(scenario, values, source=f"posterior draw {i}")
        reps = range(i * reps_per_draw, (i + 1) * reps_per_draw)
        results.append(simulate(drawn, seed, reps, scale=scale, progress=False))
        if progress:
            print(f"\rposterior draw {i + 1}/{draws}", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    metrics = {name: np.concatenate([r.metrics[name] for r in results]) for name in
               results[0].metrics}
    combined = RunResult(months=results[0].months,
                         replications=np.concatenate([r.replications for r in results]),
                         metrics=metrics, households=results[0].households,
                         people=results[0].people)
    return combined, parameter_sets


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------


def add_commands(commands) -> None:
    """``repatriation calibrate``, ``calibration-report`` and ``run-posterior``."""
    cal = commands.add_parser(
        "calibrate", help="fit the free parameters to the documented figures (ABC-SMC, pyABC)")
    cal.add_argument("--scenario", type=Path, default=HISTORICAL)
    cal.add_argument("--priors", type=Path, default=PRIORS_FILE)
    cal.add_argument("--targets", type=Path, default=TARGETS_FILE)
    cal.add_argument("--out", type=Path, default=OUT_DIR,
                     help="folder for abc.db, posterior.json and the report (default "
                          "analysis/calibration)")
    defaults = Settings()
    cal.add_argument("--scale", type=float, default=defaults.scale)
    cal.add_argument("--seed", type=int, default=defaults.seed)
    cal.add_argument("--population-size", type=int, default=defaults.population_size)
    cal.add_argument("--generations", type=int, default=defaults.generations,
                     help="generations in all (a resumed run counts those done)")
    cal.add_argument("--max-simulations", type=int, default=defaults.max_simulations)
    cal.add_argument("--max-minutes", type=float, default=defaults.max_minutes)
    cal.add_argument("--noise-reps", type=int, default=defaults.noise_reps)
    cal.add_argument("--transition", choices=TRANSITIONS, default=defaults.transition,
                     help="pyABC perturbation kernel (default %(default)s)")
    cal.add_argument("--kernel-scaling", type=float, default=defaults.kernel_scaling,
                     help="factor on the kernel's covariance (pyABC's scaling; default "
                          "%(default)s)")
    cal.add_argument("--workers", type=int, default=1,
                     help="processes (default 1: reproducible; more: pyABC reseeds its workers)")
    cal.add_argument("--resume", action="store_true",
                     help="continue the calibration in OUT/abc.db from its last generation")
    cal.add_argument("--no-report", action="store_true", help="write the posterior only")
    cal.add_argument("--report-reps", type=int, default=20)
    cal.add_argument("--report-draws", type=int, default=40)
    cal.set_defaults(handler=_calibrate_command)

    rep = commands.add_parser("calibration-report",
                              help="write the calibration report from OUT/posterior.json")
    rep.add_argument("--out", type=Path, default=OUT_DIR)
    rep.add_argument("--scenario", type=Path, default=HISTORICAL)
    rep.add_argument("--seed", type=int, default=1959)
    rep.add_argument("--report-reps", type=int, default=20)
    rep.add_argument("--report-draws", type=int, default=40)
    rep.set_defaults(handler=_report_command)

    run = commands.add_parser(
        "run-posterior",
        help="run a calibrated scenario over parameter sets drawn from its posterior")
    run.add_argument("scenario", type=Path)
    run.add_argument("--draws", type=int, default=40, help="parameter sets (default 40)")
    run.add_argument("--reps-per-draw", type=int, default=1)
    run.add_argument("--seed", type=int, default=1959)
    run.add_argument("--scale", type=float, default=1.0)
    run.add_argument("--out", type=Path, default=None,
                     help="run directory (default results/<scenario name>_posterior)")
    run.add_argument("--quiet", action="store_true")
    run.set_defaults(handler=_run_posterior_command)


def _calibrate_command(args) -> int:
    settings = Settings(scenario=args.scenario, priors=args.priors, targets=args.targets,
                        out=args.out, scale=args.scale, seed=args.seed,
                        population_size=args.population_size, generations=args.generations,
                        max_simulations=args.max_simulations, max_minutes=args.max_minutes,
                        noise_reps=args.noise_reps, workers=args.workers, resume=args.resume,
                        transition=args.transition, kernel_scaling=args.kernel_scaling)
    try:
        calibrate(settings)
    except (ScenarioError, PriorsError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.no_report:
        from .calibration_report import write_report

        print(f"report: {write_report(args.out, args.scenario, args.seed, args.report_reps, args.report_draws)}")
    return 0


def _report_command(args) -> int:
    from .calibration_report import write_report

    try:
        print(f"report: {write_report(args.out, args.scenario, args.seed, args.report_reps, args.report_draws)}")
    except (ScenarioError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _run_posterior_command(args) -> int:
    from .cli import render_summary
    from .outputs import manifest, summary, write_run

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if scenario.calibration is None:
        print(f"error: {args.scenario}: no [calibration] posterior to draw from", file=sys.stderr)
        return 2
    posterior_path = posterior_file(args.scenario)
    posterior = read_posterior(posterior_path)
    started = time.perf_counter()
    result, drawn = simulate_posterior(scenario, posterior, args.seed, args.draws,
                                       args.reps_per_draw, args.scale,
                                       progress=not args.quiet and sys.stderr.isatty())
    wall = time.perf_counter() - started
    out = args.out or Path("results") / f"{scenario.name}_posterior"
    run_manifest = manifest(scenario, args.scenario, args.seed, result, args.scale, "numpy", wall)
    run_manifest["posterior_draws"] = {
        "posterior_file": str(posterior_path), "posterior_sha256": _sha256(posterior_path),
        "draws": args.draws, "reps_per_draw": args.reps_per_draw,
        "rule": "draw i resampled with SeedSequence(seed, spawn_key=(2,)); runs replications "
                "i*reps_per_draw .. (i+1)*reps_per_draw-1",
        "parameters": drawn,
    }
    run_summary = summary(result, args.scale)
    try:
        write_run(out, result, run_manifest, run_summary)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(render_summary(f"{scenario.name} over {args.draws} posterior draws", result,
                             run_summary, args.scale, wall, out))
    return 0


if __name__ == "__main__":  # python -m sim.calibration calibrate ... (same as `repatriation ...`)
    import argparse

    _parser = argparse.ArgumentParser(prog="python -m sim.calibration")
    add_commands(_parser.add_subparsers(dest="command", required=True))
    _args = _parser.parse_args()
    raise SystemExit(_args.handler(_args))
