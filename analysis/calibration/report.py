"""The calibration report: every documented figure beside the calibrated model, with the loss,
the posterior marginals and the departures per year against the documented points.

``write_report(calibration, out)`` reads a calibration folder (``posterior.json``,
``calibration_run.json`` and, if there, ``abc.db``), runs the model, and writes ``out/report.md``
with PNG figures and ``out/report_data.json`` (the numbers of the report). Nothing in it is typed
in: every number comes from these runs and files. The prose is in
``analysis/templates/calibration_report.md.j2``, the figures are drawn by ``report_figures``.

Runs made (all numpy engine, seed ``seed``):

* the calibrated baseline: the posterior's point at full scale, ``reps`` replications -- what
  ``repatriation run scenarios/historical.toml`` runs;
* the same point at the calibration's scale, ``reps`` replications: is the reduced scale sound?
* ``draws`` parameter sets resampled from the posterior, one full-scale replication each: bands
  with parameter uncertainty;
* the hand-set first guess (the priors' ``start`` values), full scale, for comparison;
* the point with stronger letters of hardship, and without hearsay: what the letters do.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from functools import reduce
from pathlib import Path

import numpy as np

from sim.engine_numpy import simulate
from sim.record import TARGETS_FILE, load_targets
from sim.result import RunResult
from sim.rundir import PROJECT, recorded_path
from sim.scenario import load_scenario, posterior_file, scenario_file, with_parameters
from sim.schedules import month_index
from sim.staging import atomic_write_text

from ..reporting import render
from .history_matching import MAX_CANDIDATES
from .model import ToleranceDistance, base_scenario, figures_of, fitted_figures, widths_of
from .posterior import effective_sample_sizes, read_posterior, simulate_posterior
from .priors import load_priors
from .queue import LETTERS_FACTOR, consistency, queue
from .report_figures import plot_departures, plot_fit, plot_marginals
from .robustness import screen_beside
from .settings import HISTORICAL, PRIORS_FILE
from .validation import checks

# Thresholds of the report's conditional sentences (see ``_facts``).
SHIFT_LIMIT = 3  # standard errors: a scale shift beyond this is systematic, not noise
COVERAGE_TRUTHS = 200  # runs of the space left taken as the truth in turn
NOISY = 2  # noise at the calibration scale, in half-widths, beyond which the fit barely sees it
EVEN_WEIGHTS = 0.25  # effective sample size, as a share of the particles, of "even" weights
AT_CAPACITY = 0.98  # departures this close to the ships' places are bound by them
FEW = 0.01  # departures after 1967, as a share of all, that count as "only a few"
# What a report row copies from its documented figure (besides its sources, period and needs).
ROW_FIELDS = ("key", "label", "documented", "qualifier", "low", "high", "unit", "fit", "produced")


def _recorded_or_current(recorded: str, current: Path) -> Path:
    """The input file a calibration recorded (relative to the project), or, where it has moved
    since, the model's current one."""
    path = PROJECT / recorded
    return path if path.is_file() else current


def _q(values: np.ndarray) -> dict[str, float]:
    """Median, 90% band, mean and standard deviation of a figure over runs."""
    values = np.asarray(values, dtype=float)
    p05, p50, p95 = (float(np.nanquantile(values, q)) for q in (0.05, 0.5, 0.95))
    sd = float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0
    return {"p05": p05, "p50": p50, "p95": p95, "mean": float(np.nanmean(values)), "sd": sd}


def write_report(
    calibration: str | Path,
    out: str | Path,
    scenario_path: str | Path = HISTORICAL,
    seed: int = 1959,
    reps: int = 20,
    draws: int = 40,
    robustness_trajectories: int = 6,
) -> Path:
    calibration, out = Path(calibration), Path(out)
    scenario_path = scenario_file(scenario_path)
    posterior_path = calibration / "posterior.json"
    posterior = read_posterior(posterior_path)
    posterior_sha = hashlib.sha256(posterior_path.read_bytes()).hexdigest()
    run_meta = json.loads((calibration / "calibration_run.json").read_text())
    out.mkdir(parents=True, exist_ok=True)  # only once the calibration is known to be there
    # The parameters this posterior was fitted over (a prior added to the file since is not).
    priors = tuple(
        p
        for p in load_priors(_recorded_or_current(run_meta["priors_file"], PRIORS_FILE))
        if p.key in posterior["parameters"]
    )
    # After-arrival targets are not the calibration's business (see ``fitted_figures``).
    targets = tuple(
        t
        for t in load_targets(_recorded_or_current(run_meta["targets_file"], TARGETS_FILE))
        if t.stage != "aftermath"
    )
    produced = tuple(t for t in targets if t.produced)
    # The figures this calibration fitted: those whose noise it measured. A figure added to the
    # targets file since is shown beside the model, as not fitted.
    fitted = tuple(f for f in fitted_figures(targets) if f.key in run_meta["noise"])
    scale = run_meta["scale"]

    base = base_scenario(scenario_path, priors)
    point = posterior["point"]
    calibrated = with_parameters(base, point, source=str(posterior_path))
    start = with_parameters(base, {p.key: p.value(p.start) for p in priors}, source="priors start")
    points_here = posterior_file(scenario_path)
    uses_it = points_here is not None and points_here.resolve() == posterior_path.resolve()
    if uses_it:  # the scenario as users run it must be the calibrated baseline of this report
        as_run = load_scenario(scenario_path)
        values = {k: reduce(getattr, k.split("."), as_run) for k in point}
        assert values == point, "scenario differs from point"

    timings = {}
    started = time.perf_counter()
    run_point = simulate(calibrated, seed, reps, scale=1.0)
    timings["point_full_scale"] = time.perf_counter() - started
    started = time.perf_counter()
    run_small = simulate(calibrated, seed, reps, scale=scale)
    timings["point_calibration_scale"] = time.perf_counter() - started
    started = time.perf_counter()
    run_draws, _ = simulate_posterior(base, posterior, seed, draws, 1, 1.0)
    timings["posterior_draws"] = time.perf_counter() - started
    started = time.perf_counter()
    run_start = simulate(start, seed, reps, scale=1.0)
    timings["start_full_scale"] = time.perf_counter() - started
    # What the letters of hardship do: the point with each letter taking LETTERS_FACTOR times as
    # much belief, and without hearsay (only the neighbours of returnees hear of the letters).
    started = time.perf_counter()

    def side_run(changes: dict, source: str) -> RunResult:
        scenario = with_parameters(calibrated, changes, source=source)
        return simulate(scenario, seed, max(reps // 2, 2), scale=1.0)

    more = min(LETTERS_FACTOR * calibrated.process.letter_learning, 10.0)
    run_letters = side_run({"process.letter_learning": more}, f"letters x {LETTERS_FACTOR}")
    run_no_hearsay = side_run({"process.hearsay": 0.0}, "no hearsay")
    timings["letters_sensitivity_full_scale"] = time.perf_counter() - started

    started = time.perf_counter()
    robustness = (
        screen_beside(
            calibrated, scenario_path, [p.key for p in priors], seed, robustness_trajectories
        )
        if robustness_trajectories
        else None
    )
    timings["robustness"] = time.perf_counter() - started

    point_figs = figures_of(run_point, 1.0, produced)
    small_figs = figures_of(run_small, scale, produced)
    draw_figs = figures_of(run_draws, 1.0, produced)
    start_figs = figures_of(run_start, 1.0, produced)
    noise = run_meta["noise"]
    widths = widths_of(fitted, noise)

    rows = []
    for t in targets:
        row = {name: getattr(t, name) for name in ROW_FIELDS}
        row["fit"] = t in fitted
        row.update(sources=t.source, period=list(t.period), needs=t.needs)
        if t.produced:
            row["calibrated"] = _q(point_figs[t.key])
            row["with_parameter_uncertainty"] = _q(draw_figs[t.key])
            row["hand_set"] = _q(start_figs[t.key])
            row["calibration_scale"] = _q(small_figs[t.key])
            median = row["calibrated"]["p50"]
            # A figure with no count is met anywhere in its band (one-sided, as in the distance).
            row["z"] = (
                (min(median - t.low, 0.0) + max(median - t.high, 0.0)) / t.half_width
                if t.qualifier == "some"
                else (median - t.centre) / t.half_width
            )
            row["met"] = bool(t.low <= median <= t.high)
            if t.metric == "departures":
                first, last = (month_index(m) for m in t.period)
                months = (run_point.months >= first) & (run_point.months <= last)
                places = run_point.metrics["capacity"][:, months].sum(axis=1)
                row["ship_places"] = float(np.median(places))
            band = row["with_parameter_uncertainty"]
            row["band_overlaps"] = bool(band["p05"] <= t.high and band["p95"] >= t.low)
            if row["fit"]:
                row["noise_sd_at_calibration_scale"] = noise[t.key]["sd"]
                row["width"] = widths[t.key]
        rows.append(row)
    loss_tolerance = float(np.sqrt(sum(r["z"] ** 2 for r in rows if r["fit"])))
    abc_terms = ToleranceDistance.of(fitted, widths).terms(
        {t.key: float(np.median(point_figs[t.key])) for t in fitted},
        {t.key: t.centre for t in fitted},
    )
    loss_abc = float(np.sqrt(sum(v**2 for v in abc_terms.values())))

    # Posterior summary per parameter.
    sample = posterior["sample"]
    weights = np.asarray(sample["weight"], dtype=float)
    weights = weights / weights.sum()
    parameters = []
    for p in priors:
        values = np.asarray(sample[p.key], dtype=float)
        order = np.argsort(values)
        cdf = np.cumsum(weights[order])
        quant = {
            name: float(values[order][np.searchsorted(cdf, q)])
            for name, q in (("p05", 0.05), ("p50", 0.5), ("p95", 0.95))
        }
        unit = p.to_unit(values)
        parameters.append(
            {
                "key": p.key,
                "prior": f"{p.dist}({p.low:g}, {p.high:g})",
                "start": p.start,
                "point": point[p.key],
                **quant,
                "width_share_of_prior": float(np.quantile(unit, 0.95) - np.quantile(unit, 0.05)),
            }
        )

    figures = {
        "departures": plot_departures(out, targets, run_point, run_draws, run_start),
        "marginals": plot_marginals(out, priors, posterior),
        "fit": plot_fit(out, rows),
    }
    data = {
        "posterior_file": recorded_path(posterior_path),
        "posterior_sha256": posterior_sha,
        "scenario_points_to_it": uses_it,
        "seed": seed,
        "reps": reps,
        "draws": draws,
        "scale": scale,
        "people": calibrated.population.people,
        "rows": rows,
        "loss_tolerance": loss_tolerance,
        "loss_abc": loss_abc,
        "abc_terms": abc_terms,
        "parameters": parameters,
        "figures": figures,
        "timings": timings,
        "run": run_meta,
        "generations": posterior["generations"],
        "point_rule": posterior["point_rule"],
        "prior_calibration_simulations": posterior["prior_calibration_simulations"],
        "consistency": consistency(targets, point_figs, run_point),
        "queue": queue(run_point, run_letters, run_no_hearsay, point_figs, calibrated, seed),
        "ess": _effective_sample_sizes(calibration, posterior, run_meta),
        "robustness": robustness,
        "validation": checks(
            calibration, fitted, widths, len(posterior["sample"]["weight"]), seed, COVERAGE_TRUTHS
        ),
    }
    atomic_write_text(out / "report_data.json", json.dumps(data, indent=1, default=float))
    path = out / "report.md"
    atomic_write_text(path, _markdown(data))
    return path


def _effective_sample_sizes(calibration: Path, posterior: dict, run_meta: dict) -> list[float]:
    """Kish's effective sample size of each generation: as the calibration recorded it, else
    from its abc.db, else the last generation's alone (from the posterior sample)."""
    if "effective_sample_sizes" in run_meta:
        return run_meta["effective_sample_sizes"]
    db = calibration / "abc.db"
    if db.is_file():
        import pyabc

        return effective_sample_sizes(pyabc.History(f"sqlite:///{db.resolve()}"))
    w = np.asarray(posterior["sample"]["weight"], dtype=float)
    w = w / w.sum()
    return [float("nan")] * (len(posterior["generations"]) - 1) + [float(1.0 / np.sum(w**2))]


def _markdown(d: dict) -> str:
    """The report's Markdown: the template ``calibration_report.md.j2`` given the report's data
    ``d`` (as in ``report_data.json``) and what it needs beyond: sums, ratios and the yes/no of
    its conditional sentences."""
    run, rows, q = d["run"], {r["key"]: r for r in d["rows"]}, d.get("queue")
    fitted = [r for r in d["rows"] if r["fit"]]
    noise_notes = {}
    for r in fitted:
        noise = r.get("noise_sd_at_calibration_scale")
        ratio = noise / ((r["high"] - r["low"]) / 2) if noise else 0.0
        if ratio > NOISY:  # the distance divides the error by sqrt(half^2 + noise^2)
            noise_notes[r["key"]] = {"ratio": ratio, "weight": 1 / math.sqrt(1 + ratio**2)}
    scale_rows = []
    for r in (r for r in d["rows"] if r["produced"]):
        full, reduced = r["calibrated"], r["calibration_scale"]
        se = math.sqrt(full["sd"] ** 2 / d["reps"] + reduced["sd"] ** 2 / d["reps"])
        half = (r["high"] - r["low"]) / 2
        scale_rows.append(
            {
                "row": r,
                "half": half,
                "noise": reduced["sd"] / half,
                "shift": (reduced["mean"] - full["mean"]) / se if se > 0 else 0.0,
                "half_widths": (reduced["mean"] - full["mean"]) / half,
            }
        )
    ess, scaling = d["ess"][-1], run.get("kernel_scaling", 1.0)
    facts = {
        "rows": rows,
        "single_core": run["workers"] == 1,
        "point_simulations": run.get("point_simulations", 0),
        "wall_minutes": sum(s["wall_seconds"] for s in run["sessions"]) / 60,
        "sessions": [
            {"minutes": s["wall_seconds"] / 60, "started": s["started_generations"]}
            for s in run["sessions"]
        ],
        "bound_by_ships": {
            r["key"]
            for r in fitted
            if r.get("ship_places") and r["calibrated"]["p50"] >= AT_CAPACITY * r["ship_places"]
        },
        "noise_notes": noise_notes,
        "q": q,
        "few_after_1967": bool(q)
        and d["consistency"]["simulated_departures_1968_1984"] < FEW * q["departures_total"],
        "no_count_fitted": any(r["qualifier"] == "some" for r in fitted),
        "letter_keeps": math.exp(-q["letter_learning"]) if q else None,
        "ess": ess,
        "ess_even": ess >= EVEN_WEIGHTS * run["population_size"],
        "transition": run.get("transition", "normal"),
        "kernel_scaling": scaling,
        "kernel_scaled": scaling != 1.0,
        "log10_parameters": run.get("pyabc_log10_parameters", []),
        "logit_scale": "pyabc_scale" in run,
        "hm": run.get("method") == "history-matching",
        "max_candidates": MAX_CANDIDATES,
        "scale_rows": scale_rows,
        "shift_limit": SHIFT_LIMIT,
        "biased": [s for s in scale_rows if abs(s["shift"]) > SHIFT_LIMIT],
    }
    return render("calibration_report.md.j2", d=d, **facts)
