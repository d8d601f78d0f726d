"""The calibration report: every documented figure beside the calibrated model, with the loss,
the posterior marginals and the departures per year against the documented points.

``write_report(calibration, out)`` reads a calibration folder (``posterior.json``,
``calibration_run.json`` and, if there, ``abc.db``), runs the model, and writes ``out/report.md``
with PNG figures and ``out/report_data.json`` (the numbers of the report). Nothing in it is typed
in: every number comes from these runs and files.

Runs made (all numpy engine, seed ``seed``):

* the calibrated baseline: the posterior's point at full scale, ``reps`` replications -- what
  ``repatriation run scenarios/historical.toml`` runs;
* the same point at the calibration's scale, ``reps`` replications: is the reduced scale sound?
* ``draws`` parameter sets resampled from the posterior, one full-scale replication each: bands
  with parameter uncertainty;
* the hand-set first guess (the priors' ``start`` values), full scale, for comparison.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
from pathlib import Path

import numpy as np

from sim.engine_numpy import simulate
from sim.population import generate_population
from sim.record import TARGETS_FILE, load_targets, stated
from sim.result import RunResult
from sim.rundir import atomic_write_text
from sim.scenario import load_scenario, posterior_file, scenario_file, with_parameters
from sim.schedules import month_index
from sim.streams import population_stream

from .model import base_scenario, figures_of, fitted_figures, widths_of
from .posterior import read_posterior, simulate_posterior
from .priors import load_priors
from .settings import HISTORICAL, PRIORS_FILE

ROOT = Path(__file__).resolve().parents[2]


def _recorded_or_current(recorded: str, current: Path) -> Path:
    """The input file a calibration recorded (relative to the project), or, where it has moved
    since, the model's current one."""
    path = ROOT / recorded
    return path if path.is_file() else current


def _q(values: np.ndarray) -> dict[str, float]:
    values = np.asarray(values, dtype=float)
    return {"p05": float(np.nanquantile(values, 0.05)), "p50": float(np.nanquantile(values, 0.5)),
            "p95": float(np.nanquantile(values, 0.95)), "mean": float(np.nanmean(values)),
            "sd": float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0}


def _fmt(value: float, share: bool) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.1%}" if share else f"{value:,.0f}"


def _documented(row: dict) -> str:
    """A report row's documented figure as the documents state it ("over 49,000", "277")."""
    return stated(row["qualifier"], row["documented"],
                  "{:.1%}" if row["unit"] == "share" else "{:,.0f}")


def _annual(result: RunResult, scale: float) -> tuple[np.ndarray, np.ndarray]:
    years = result.months // 12
    unique = np.unique(years)
    per_year = np.stack([result.metrics["departures"][:, years == y].sum(axis=1) for y in unique],
                        axis=1) / scale
    return unique, per_year


def write_report(calibration: str | Path, out: str | Path,
                 scenario_path: str | Path = HISTORICAL, seed: int = 1959, reps: int = 20,
                 draws: int = 40) -> Path:
    calibration, out = Path(calibration), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scenario_path = scenario_file(scenario_path)
    posterior_path = calibration / "posterior.json"
    posterior = read_posterior(posterior_path)
    posterior_sha = hashlib.sha256(posterior_path.read_bytes()).hexdigest()
    run_meta = json.loads((calibration / "calibration_run.json").read_text())
    priors = load_priors(_recorded_or_current(run_meta["priors_file"], PRIORS_FILE))
    # After-arrival targets are not the calibration's business (see ``fitted_figures``).
    targets = tuple(t for t in load_targets(_recorded_or_current(run_meta["targets_file"],
                                                                 TARGETS_FILE))
                    if t.stage != "aftermath")
    produced = tuple(t for t in targets if t.produced)
    fitted = fitted_figures(targets)
    scale = run_meta["scale"]

    base = base_scenario(scenario_path, priors)
    point = posterior["point"]
    calibrated = with_parameters(base, point, source=str(posterior_path))
    start = with_parameters(base, {p.key: p.value(p.start) for p in priors}, source="priors start")
    points_here = posterior_file(scenario_path)
    uses_it = points_here is not None and points_here.resolve() == posterior_path.resolve()
    if uses_it:  # the scenario as users run it must be the calibrated baseline of this report
        as_run = load_scenario(scenario_path)
        assert all(_get(as_run, k) == v for k, v in point.items()), "scenario differs from point"

    timings = {}
    started = time.perf_counter()
    run_point = simulate(calibrated, seed, reps, scale=1.0)
    timings["point_full_scale"] = time.perf_counter() - started
    started = time.perf_counter()
    run_small = simulate(calibrated, seed, reps, scale=scale)
    timings["point_calibration_scale"] = time.perf_counter() - started
    started = time.perf_counter()
    run_draws, drawn = simulate_posterior(base, posterior, seed, draws, 1, 1.0)
    timings["posterior_draws"] = time.perf_counter() - started
    started = time.perf_counter()
    run_start = simulate(start, seed, reps, scale=1.0)
    timings["start_full_scale"] = time.perf_counter() - started
    # What the letters of hardship do: the point with each letter taking four times as much
    # belief, and the point without letters heard second-hand (hearsay 0: only neighbours of
    # returnees).
    started = time.perf_counter()
    side_reps = max(reps // 2, 2)
    run_letters = simulate(with_parameters(calibrated, {
        "process.letter_learning": min(4 * calibrated.process.letter_learning, 10.0)},
        source="letters x 4"), seed, side_reps, scale=1.0)
    run_no_hearsay = simulate(with_parameters(calibrated, {"process.hearsay": 0.0},
                                              source="no hearsay"), seed, side_reps, scale=1.0)
    timings["letters_sensitivity_full_scale"] = time.perf_counter() - started

    point_figs = figures_of(run_point, 1.0, produced)
    small_figs = figures_of(run_small, scale, produced)
    draw_figs = figures_of(run_draws, 1.0, produced)
    start_figs = figures_of(run_start, 1.0, produced)
    noise = run_meta["noise"]
    widths = widths_of(fitted, noise)

    rows = []
    for t in targets:
        row = {"key": t.key, "label": t.label, "documented": t.documented,
               "qualifier": t.qualifier, "low": t.low, "high": t.high, "sources": t.source,
               "period": list(t.period), "unit": t.unit, "fit": t.fit, "produced": t.produced,
               "needs": t.needs}
        if t.produced:
            row["calibrated"] = _q(point_figs[t.key])
            row["with_parameter_uncertainty"] = _q(draw_figs[t.key])
            row["hand_set"] = _q(start_figs[t.key])
            row["calibration_scale"] = _q(small_figs[t.key])
            median = row["calibrated"]["p50"]
            row["z"] = (median - t.centre) / t.half_width
            row["met"] = bool(t.low <= median <= t.high)
            if t.metric == "departures":
                months = (run_point.months >= month_index(t.period[0])) & (
                    run_point.months <= month_index(t.period[1]))
                row["ship_places"] = float(np.median(
                    run_point.metrics["capacity"][:, months].sum(axis=1)))
            row["band_overlaps"] = bool(row["with_parameter_uncertainty"]["p05"] <= t.high
                                        and row["with_parameter_uncertainty"]["p95"] >= t.low)
            if t.fit:
                row["noise_sd_at_calibration_scale"] = noise[t.key]["sd"]
                row["width"] = widths[t.key]
        rows.append(row)
    loss_tolerance = float(np.sqrt(sum(r["z"] ** 2 for r in rows if r["fit"])))
    abc_terms = {t.key: (float(np.median(point_figs[t.key])) - t.centre) / widths[t.key]
                 for t in fitted}
    loss_abc = float(np.sqrt(sum(v ** 2 for v in abc_terms.values())))

    # Posterior summary per parameter.
    sample = posterior["sample"]
    weights = np.asarray(sample["weight"], dtype=float)
    weights = weights / weights.sum()
    parameters = []
    for p in priors:
        values = np.asarray(sample[p.key], dtype=float)
        order = np.argsort(values)
        cdf = np.cumsum(weights[order])
        quant = {name: float(values[order][np.searchsorted(cdf, q)])
                 for name, q in (("p05", 0.05), ("p50", 0.5), ("p95", 0.95))}
        unit = p.to_unit(values)
        parameters.append({"key": p.key, "prior": f"{p.dist}({p.low:g}, {p.high:g})",
                           "start": p.start, "point": point[p.key], **quant,
                           "width_share_of_prior": float(np.quantile(unit, 0.95)
                                                         - np.quantile(unit, 0.05))})

    figures = {
        "departures": _plot_departures(out, targets, run_point, run_draws, run_start),
        "marginals": _plot_marginals(out, priors, posterior),
        "fit": _plot_fit(out, rows),
    }
    data = {
        "posterior_file": str(posterior_path.relative_to(ROOT) if posterior_path.is_absolute()
                              and ROOT in posterior_path.parents else posterior_path),
        "posterior_sha256": posterior_sha, "scenario_points_to_it": uses_it,
        "seed": seed, "reps": reps, "draws": draws, "scale": scale,
        "rows": rows, "loss_tolerance": loss_tolerance, "loss_abc": loss_abc,
        "abc_terms": abc_terms, "parameters": parameters, "figures": figures,
        "timings": timings, "run": run_meta, "generations": posterior["generations"], "point_rule": posterior["point_rule"],
        "prior_calibration_simulations": posterior["prior_calibration_simulations"],
        "consistency": _consistency(targets, point_figs, run_point),
        "queue": _queue(run_point, run_letters, run_no_hearsay, point_figs, calibrated, seed),
        "ess": _effective_sample_sizes(calibration, posterior),
    }
    atomic_write_text(out / "report_data.json", json.dumps(data, indent=1, default=float))
    path = out / "report.md"
    atomic_write_text(path, _markdown(data, targets))
    return path


def _effective_sample_sizes(calibration: Path, posterior: dict) -> list[float]:
    """Kish's effective sample size 1 / sum(w^2) of each generation (from abc.db if present)."""
    db = calibration / "abc.db"
    if db.is_file():
        import pyabc

        history = pyabc.History(f"sqlite:///{db.resolve()}")
        sizes = []
        for t in range(history.max_t + 1):
            _, w = history.get_distribution(m=0, t=t)
            w = np.asarray(w, dtype=float) / np.sum(w)
            sizes.append(float(1.0 / np.sum(w ** 2)))
        return sizes
    w = np.asarray(posterior["sample"]["weight"], dtype=float)
    w = w / w.sum()
    return [float("nan")] * (len(posterior["generations"]) - 1) + [float(1.0 / np.sum(w ** 2))]


def _get(scenario, dotted: str):
    node = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def _consistency(targets, point_figs, run_point: RunResult) -> dict:
    """What the documented figures imply together, and where the model's registrants end up."""
    by_key = {t.key: t for t in targets}
    registered = by_key["registrations_1959_1967"].documented
    share = by_key["cancelled_share_1959_1967"].documented
    total = by_key["departures_total"].documented
    months = run_point.months
    upto_1967 = months <= 1967 * 12 + 11
    departed_1967 = run_point.metrics["departures"][:, upto_1967].sum(axis=1)
    waiting_1967 = run_point.metrics["registered_stock"][:, np.flatnonzero(upto_1967)[-1]]
    return {
        "implied_departures_1959_1967": registered * (1 - share),
        "documented_departures_total": total,
        "simulated_departures_1959_1967": float(np.median(departed_1967)),
        "simulated_waiting_at_lapse_1967": float(np.median(waiting_1967)),
        "simulated_departures_1968_1984": float(np.median(
            run_point.metrics["departures"][:, ~upto_1967].sum(axis=1))),
    }


def _queue(run_point: RunResult, run_letters: RunResult, run_no_hearsay: RunResult, point_figs,
           calibrated, seed: int) -> dict:
    """The waiting list of 1959-1961, what drives the departures of 1961, and the letters' reach."""
    months, m = run_point.months, run_point.metrics

    def at_end(year: int, metric: str = "registered_stock") -> float:
        return float(np.median(m[metric][:, np.flatnonzero(months == year * 12 + 11)[0]]))

    def in_year(result: RunResult, year: int, metric: str) -> float:
        return float(np.median(result.metrics[metric][:, result.months // 12 == year].sum(axis=1)))

    def total(result: RunResult) -> float:
        keep = (result.months >= 1959 * 12 + 11) & (result.months <= 1984 * 12 + 6)
        return float(np.median(result.metrics["departures"][:, keep].sum(axis=1)))

    def deportee_share(keep) -> float:
        sailed = m["departures"][:, keep].sum(axis=1)
        deportees = m["deportee_departures"][:, keep].sum(axis=1)
        return float(np.median(deportees / np.maximum(sailed, 1)))

    wives = float(np.median(point_figs["japanese_wives"]))
    nationals = float(np.median(point_figs["japanese_national_departures"]))
    return {
        "waiting_end_1959": at_end(1959), "waiting_end_1960": at_end(1960),
        "waiting_end_1961": at_end(1961),
        "capacity_1960": in_year(run_point, 1960, "capacity"),
        "capacity_1961": in_year(run_point, 1961, "capacity"),
        "departures_1961": in_year(run_point, 1961, "departures"),
        "cancellations_1961": in_year(run_point, 1961, "cancellations"),
        "registrations_1961": in_year(run_point, 1961, "registrations"),
        "departures_1962_1984": float(np.median(m["departures"][:, months // 12 >= 1962].sum(axis=1))),
        "deportee_share_1962_1984": deportee_share(months // 12 >= 1962),
        "deportee_share_all": deportee_share(slice(None)),
        "departures_total": total(run_point),
        "departures_total_letters_x4": total(run_letters),
        "departures_1961_letters_x4": in_year(run_letters, 1961, "departures"),
        "departures_total_no_hearsay": total(run_no_hearsay),
        "departures_1961_no_hearsay": in_year(run_no_hearsay, 1961, "departures"),
        "registrations_no_hearsay": float(np.median(run_no_hearsay.metrics["registrations"][
            :, (run_no_hearsay.months // 12 >= 1959) & (run_no_hearsay.months // 12 <= 1967)
        ].sum(axis=1))),
        "side_reps": len(run_letters.replications),
        "letter_learning": float(calibrated.process.letter_learning),
        "hearsay": float(calibrated.process.hearsay),
        "nationals_per_wife": nationals / wives if wives else float("nan"),
        "nationals_per_spouse_if_all_children": _nationals_if_all_children(calibrated, seed),
        "japanese_child_share": float(calibrated.population.japanese_child_share),
    }


def _nationals_if_all_children(scenario, seed: int) -> float:
    """Persons per Japanese spouse in the mixed households of the population (spouse and every
    child): the ratio of Japanese nationals to spouses if every child held Japanese nationality."""
    pop = generate_population(scenario.population, 1.0, population_stream(seed))
    mixed = pop.japanese_spouse
    return float(np.mean(pop.size[mixed].astype(float) - 1.0)) if mixed.any() else float("nan")


# ----------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_departures(out: Path, targets, run_point, run_draws, run_start) -> str:
    plt = _plt()
    by_key = {t.key: t for t in targets}
    years, point = _annual(run_point, 1.0)
    _, draws = _annual(run_draws, 1.0)
    _, start = _annual(run_start, 1.0)
    keep = years >= 1959
    years, point, draws, start = years[keep], point[:, keep], draws[:, keep], start[:, keep]
    fig, (ax, cum) = plt.subplots(1, 2, figsize=(13, 4.8))
    ax.fill_between(years, np.quantile(draws, 0.05, axis=0), np.quantile(draws, 0.95, axis=0),
                    color="tab:blue", alpha=0.2, label="90% band, posterior draws")
    ax.fill_between(years, np.quantile(point, 0.05, axis=0), np.quantile(point, 0.95, axis=0),
                    color="tab:blue", alpha=0.45, label="90% band, calibrated point")
    ax.plot(years, np.median(point, axis=0), color="tab:blue", lw=2,
            label="calibrated baseline (median)")
    ax.plot(years, np.median(start, axis=0), color="grey", ls="--", lw=1,
            label="hand-set first guess (median)")
    t = by_key["departures_1960"]
    ax.errorbar([1960], [t.centre], yerr=[[t.centre - t.low], [t.high - t.centre]], fmt="o",
                color="black", capsize=4, label=f"documented: {t.qualifier} {t.documented:,.0f} "
                                               f"in 1960 ({t.source})")
    # The later years have no count, only a band over a span of years (qualifier "some"): drawn
    # as that band divided by the span's length, a yearly average, over the span.
    no_count = [f for f in by_key.values() if f.qualifier == "some" and f.fit]
    for t, colour in zip(no_count, itertools.cycle(("tab:green", "tab:olive", "tab:cyan"))):
        first, last = (month_index(m) for m in t.period)
        years_long = (last - first + 1) / 12
        ax.fill_between([first / 12, (last + 1) / 12], t.low / years_long, t.high / years_long,
                        color=colour, alpha=0.15,
                        label=f"{t.label}: band / {years_long:.1f} years (no count; {t.source})")
    ax.set_yscale("log")
    ax.set_xlabel("year")
    ax.set_ylabel("departures per year (persons, log scale)")
    ax.set_title("Departures per year")
    ax.legend(fontsize=8)

    months = run_point.months
    keep_m = months >= 1959 * 12 + 11
    x = 1959 + 11 / 12 + (months[keep_m] - months[keep_m][0]) / 12
    c_point = np.cumsum(run_point.metrics["departures"][:, keep_m], axis=1)
    c_draws = np.cumsum(run_draws.metrics["departures"][:, keep_m], axis=1)
    cum.fill_between(x, np.quantile(c_draws, 0.05, axis=0), np.quantile(c_draws, 0.95, axis=0),
                     color="tab:blue", alpha=0.2, label="90% band, posterior draws")
    cum.plot(x, np.median(c_point, axis=0), color="tab:blue", lw=2,
             label="calibrated baseline (median)")
    for key in ("departures_to_may_1960", "departures_total"):
        t = by_key[key]
        last = t.period[1]
        xm = int(last[:4]) + int(last[5:]) / 12
        cum.errorbar([xm], [t.documented], yerr=[[t.documented - t.low], [t.high - t.documented]],
                     fmt="o", color="black", capsize=4)
        cum.annotate(f"{t.documented:,.0f} by {last} ({t.source})", (xm, t.documented),
                     textcoords="offset points", xytext=(-10, 8), ha="right", fontsize=8)
    cum.set_xlabel("year")
    cum.set_ylabel("cumulative departures (persons)")
    cum.set_title("Cumulative departures from December 1959")
    cum.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = out / "departures.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _plot_marginals(out: Path, priors, posterior) -> str:
    plt = _plt()
    sample = posterior["sample"]
    weights = np.asarray(sample["weight"], dtype=float)
    n = len(priors)
    cols = 4
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(13, 2.6 * ((n + cols - 1) // cols)))
    for ax, p in zip(axes.flat, priors):
        values = np.asarray(sample[p.key], dtype=float)
        if p.dist == "loguniform":
            bins = np.geomspace(p.low, p.high, 25)
            ax.set_xscale("log")
        else:
            bins = np.linspace(p.low, p.high, 25)
        ax.hist(values, bins=bins, weights=weights, color="tab:blue", alpha=0.7, density=True)
        ax.axvline(posterior["point"][p.key], color="black", lw=1.5, label="point")
        ax.axvline(p.start, color="grey", ls="--", lw=1, label="hand-set")
        ax.set_xlim(p.low, p.high)
        ax.set_title(p.key, fontsize=9)
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Posterior marginals (x axis = prior range; weighted last generation)")
    fig.tight_layout()
    path = out / "posterior_marginals.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def _plot_fit(out: Path, rows) -> str:
    plt = _plt()
    shown = [r for r in rows if r["produced"]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1))
    for i, r in enumerate(shown):
        centre, half = (r["low"] + r["high"]) / 2, (r["high"] - r["low"]) / 2
        z = lambda v: (v - centre) / half  # noqa: E731
        u = r["with_parameter_uncertainty"]
        ax.plot([z(u["p05"]), z(u["p95"])], [i, i], color="tab:blue", alpha=0.4, lw=6)
        ax.plot([z(r["hand_set"]["p50"])], [i], "x", color="grey")
        ax.plot([z(r["calibrated"]["p50"])], [i], "o", color="tab:blue" if r["fit"] else "tab:orange")
    ax.axvspan(-1, 1, color="green", alpha=0.1)
    ax.set_yticks(range(len(shown)), [r["label"] + ("" if r["fit"] else " (not fitted)")
                                      for r in shown], fontsize=8)
    ax.set_xscale("symlog", linthresh=2)
    ax.set_xlabel("(simulated - centre of band) / half-width of band; green = within tolerance")
    ax.set_title("Fit: o calibrated median, bar 90% band with parameter uncertainty, x hand-set")
    fig.tight_layout()
    path = out / "fit.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------


def _markdown(d: dict, targets) -> str:
    run = d["run"]
    total_wall = sum(s["wall_seconds"] for s in run["sessions"])
    lines = [
        "# Calibration of the historical baseline",
        "",
        "Written by `repatriation calibration-report` (also run at the end of `repatriation "
        "calibrate`) from the posterior and fresh runs of the model; no number below is typed in.",
        "",
        f"- posterior: `{d['posterior_file']}` (sha256 `{d['posterior_sha256'][:16]}...`); "
        f"`scenarios/historical.toml` points to it: **{'yes' if d['scenario_points_to_it'] else 'no'}**",
        f"- method: ABC-SMC (pyABC), {len(d['parameters'])} free parameters, "
        f"population {run['population_size']} particles, {d['run']['generations']} generations, "
        f"scale {run['scale']} ({'single-core, reproducible' if run['workers'] == 1 else str(run['workers']) + ' worker processes'}), seed {run['seed']}",
        f"- cost: **{run['total_simulations']:,} simulations** by pyABC (of which "
        f"{d['prior_calibration_simulations']:,} to calibrate the first epsilon) plus "
        f"{run['noise_reps']} to measure the noise and "
        f"{run.get('point_simulations', 0)} to choose the point; **{total_wall / 60:.1f} min** "
        f"wall time in {len(run['sessions'])} session(s) ("
        + "; ".join(f"{s['wall_seconds'] / 60:.1f} min from generation {s['started_generations']}"
                    for s in run["sessions"]) + ")",
        f"- report runs: calibrated point at full scale, {d['reps']} replications "
        f"({d['timings']['point_full_scale']:.0f} s); {d['draws']} posterior draws at full scale, "
        f"one replication each ({d['timings']['posterior_draws']:.0f} s); seed {d['seed']}",
        "",
        "## Fit: every documented figure beside the calibrated model",
        "",
        "Simulated values are full-population persons (or shares). *Calibrated*: the posterior's "
        "point, run at full scale (median and 90% band over replications: randomness of a run "
        "only). *With parameter uncertainty*: parameter sets drawn from the posterior, one run "
        "each. *z* = (calibrated median - centre of the band) / half-width: within the tolerance "
        "when |z| <= 1.",
        "",
        "| figure | documented | tolerance band | source | hand-set | calibrated median [90%] "
        "| with parameter uncertainty [90%] | z | within tolerance |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in d["rows"]:
        share = r["unit"] == "share"
        doc = _documented(r)
        band = f"{_fmt(r['low'], share)} - {_fmt(r['high'], share)}"
        if not r["produced"]:
            lines.append(f"| {r['label']} | {doc} | {band} | {r['sources']} | - | not produced by "
                         f"the model yet | - | - | - |")
            continue
        c, u, h = r["calibrated"], r["with_parameter_uncertainty"], r["hand_set"]
        met = ("yes" if r["met"] else "**no**") if r["fit"] else "(not fitted)"
        lines.append(
            f"| {r['label']} | {doc} | {band} | {r['sources']} | {_fmt(h['p50'], share)} | "
            f"{_fmt(c['p50'], share)} [{_fmt(c['p05'], share)} - {_fmt(c['p95'], share)}] | "
            f"{_fmt(u['p50'], share)} [{_fmt(u['p05'], share)} - {_fmt(u['p95'], share)}] | "
            f"{r['z']:+.1f} | {met} |")
    fitted = [r for r in d["rows"] if r["fit"]]
    met = [r for r in fitted if r["met"]]
    lines += [
        "",
        f"**{len(met)} of {len(fitted)} fitted figures** are within their tolerance at the "
        f"calibrated point. Loss (root of the sum of z squared over the fitted figures): "
        f"{d['loss_tolerance']:.2f}; the ABC distance of the point's median, with widths "
        f"widened by the reduced-scale noise: {d['loss_abc']:.2f} (last epsilon "
        f"{d['generations'][-1]['epsilon']:.2f}).",
        "",
        f"![fit]({d['figures']['fit']})",
        "",
    ]
    missing = [r for r in d["rows"] if not r["produced"]]
    if missing:
        lines += ["Figures not produced by the model yet (the engine does not record them):", ""]
    for r in missing:
        lines.append(f"- {r['label']} ({r['sources']}): needs {r['needs']}.")
    lines += ["", "## Departures per year", "", f"![departures]({d['figures']['departures']})", ""]
    lines += _findings(d)
    lines += [
        "",
        "## Posterior",
        "",
        "Weighted last generation of ABC-SMC. *Point*: the values `scenarios/historical.toml` "
        f"takes; {d['point_rule']}. *90% width* is the 90% interval's share of the prior range: "
        "near 1, the documents do not inform the parameter.",
        "",
        *_ess_note(d),
        "",
        "| parameter | prior | hand-set | point | median | 90% interval | 90% width / prior |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in d["parameters"]:
        lines.append(f"| `{p['key']}` | {p['prior']} | {p['start']:g} | {p['point']:.4g} | "
                     f"{p['p50']:.4g} | {p['p05']:.4g} - {p['p95']:.4g} | "
                     f"{p['width_share_of_prior']:.2f} |")
    lines += ["", f"![posterior marginals]({d['figures']['marginals']})", "",
              "Acceptance threshold per generation, and the effective sample size (Kish, "
              "1 / sum of squared weights) of the accepted particles:", "",
              "| generation | epsilon | simulations | effective sample size |", "|---|---|---|---|"]
    for g, ess in zip(d["generations"], d["ess"]):
        lines.append(f"| {g['t']} | {g['epsilon']:.2f} | {g['simulations']:,} | {ess:.1f} |")
    lines += ["", *_scale_section(d), "", *_method_section(d)]
    return "\n".join(lines) + "\n"


def _ess_note(d: dict) -> list[str]:
    size, ess = d["run"]["population_size"], d["ess"][-1]
    logs = d["run"].get("pyabc_log10_parameters", [])
    how = (f"pyABC samples {', '.join(f'`{k}`' for k in logs)} as base-10 logarithms (their priors "
           "are log-uniform), so that its perturbation kernel moves them by factors; "
           if logs else "")
    kernel = {"local": "the kernel is pyABC's `LocalTransition` (a normal around each particle "
                       "with the covariance of its nearest quarter of the particles)",
              "normal": "the kernel is pyABC's multivariate normal"}[d["run"].get("transition",
                                                                            "normal")]
    scaling = d["run"].get("kernel_scaling", 1.0)
    if scaling != 1.0:
        kernel += (f", its covariance {scaling:g} times pyABC's default (Silverman's rule): with "
                   f"{len(d['parameters'])} parameters, a narrow kernel makes the proposal density, "
                   "and so the importance weights, vary by orders of magnitude across the "
                   "accepted particles")
    if ess >= 0.25 * size:
        verdict = (f"The last generation's {size} particles have an effective sample size of "
                   f"{ess:.0f} (table below): the weights are even enough for the intervals and "
                   "the bands 'with parameter uncertainty' to rest on many distinct parameter sets.")
    else:
        verdict = (f"**Caveat: the weights are uneven.** The last generation's {size} particles "
                   f"have an effective sample size of {ess:.0f} (table below), so the intervals "
                   "and the bands 'with parameter uncertainty' rest on fewer distinct parameter "
                   "sets than the sample holds: read them as rough.")
    return [verdict + " Sampling: " + how + kernel + "."]


def _noise_note(r: dict, scale: float) -> str:
    """Why the fit barely sees a figure whose noise at the calibration scale dwarfs its band."""
    half = (r["high"] - r["low"]) / 2
    noise = r.get("noise_sd_at_calibration_scale")
    if not noise or noise / half <= 2:
        return ""
    ratio = noise / half
    return (f" At scale {scale} one run's noise on this figure is {ratio:.1f} half-widths of its "
            "band, so the distance (width sqrt(half-width^2 + noise^2)) weighs its error "
            f"{1 / np.sqrt(1 + ratio ** 2):.2f} times as much as its band alone would: the "
            "calibration barely sees it.")


def _findings(d: dict) -> list[str]:
    rows = {r["key"]: r for r in d["rows"]}
    c = d["consistency"]
    lines = ["## What fits, what does not, and why", ""]
    unmet = [r for r in d["rows"] if r["fit"] and not r["met"]]
    if not unmet:
        lines.append("Every fitted figure is within its tolerance at the calibrated point.")
    for r in unmet:
        share = r["unit"] == "share"
        lines.append(f"- **{r['label']}**: documented {_documented(r)} "
                     f"(band {_fmt(r['low'], share)} - {_fmt(r['high'], share)}), calibrated "
                     f"{_fmt(r['calibrated']['p50'], share)}; with parameter uncertainty "
                     f"{_fmt(r['with_parameter_uncertainty']['p05'], share)} - "
                     f"{_fmt(r['with_parameter_uncertainty']['p95'], share)}"
                     f"{' (the band reaches the tolerance)' if r['band_overlaps'] else ''}."
                     + (f" The ships' places over the period are {r['ship_places']:,.0f}: "
                        "departures are bound by the `ship_capacity` lever, an input of the "
                        "scenario, not a calibrated parameter."
                        if r.get("ship_places") and r["calibrated"]["p50"] >= 0.98 * r["ship_places"]
                        else "")
                     + _noise_note(r, d["scale"])
                     + (" See below: the documented figures pull against each other."
                        if r["key"] in ("registrations_1959_1967", "departures_total",
                                        "cancelled_share_1959_1967") else ""))
    lines += [
        "",
        "The documented figures pull against each other. Of the "
        f"{rows['registrations_1959_1967']['documented']:,.0f} who registered in 1959-1967, "
        f"{rows['cancelled_share_1959_1967']['documented']:.0%} cancelled (002): that leaves "
        f"{c['implied_departures_1959_1967']:,.0f} to sail by 1967, more than the "
        f"{c['documented_departures_total']:,.0f} who sailed in all the years to 1984. The "
        "documents are therefore consistent only if many registrants of 1959-1967 neither "
        "cancelled nor sailed by the 1967 lapse, or if the share who changed their minds was "
        "higher than 25%. In the calibrated model "
        f"{c['simulated_departures_1959_1967']:,.0f} sailed by the end of 1967, "
        f"{c['simulated_waiting_at_lapse_1967']:,.0f} were still registered and waiting at the "
        f"lapse, and {c['simulated_departures_1968_1984']:,.0f} sailed after 1967.",
    ]
    may = rows["cancellations_to_may_1960"]
    share = rows["cancelled_share_1959_1967"]
    lines += [
        "",
        "In the model a registered household cancels with the same monthly chance, "
        "`cancel_rate x doubt`, from the day it registers; doubt falls only as its propensity "
        "rises. To have a quarter or more of registrants cancel over eight years while almost "
        "none cancel in the first six months, the propensity of those waiting in early 1960 "
        "must be far above the doubt threshold and fall later (with the letters of hardship "
        f"from late 1960). The calibrated model gives {_fmt(may['calibrated']['p50'], False)} "
        f"cancellations by the end of May 1960 (documented {may['documented']:,.0f}) and a "
        f"cancelled share of {_fmt(share['calibrated']['p50'], True)} (documented "
        f"{share['documented']:.0%}).",
    ]
    q = d.get("queue")
    if q:
        total_r = rows["departures_total"]
        lines += [
            "",
            "**What drives the departures of 1961 and after.** The programme's windows open "
            "before the first ship, and the households that came to want to leave during the "
            "1958-1959 campaign register within months: at the end of 1959 "
            f"{q['waiting_end_1959']:,.0f} persons were registered and waiting, "
            f"{q['waiting_end_1960']:,.0f} at the end of 1960 and {q['waiting_end_1961']:,.0f} at "
            f"the end of 1961 (the ships' places were {q['capacity_1960']:,.0f} in 1960 and "
            f"{q['capacity_1961']:,.0f} in 1961). In 1961 {q['departures_1961']:,.0f} sailed, "
            f"{q['cancellations_1961']:,.0f} cancelled and {q['registrations_1961']:,.0f} "
            f"registered. Departures from 1962 to 1984 add {q['departures_1962_1984']:,.0f}.",
        ]
        after_1967 = c["simulated_departures_1968_1984"]
        if after_1967 < 0.01 * q["departures_total"]:
            lines[-1] += (
                f" Only {after_1967:,.0f} sail after 1967, although the project resumed in 1971 "
                "(general historical record) and its ships sailed until July 1984 (002): the departures come in "
                "1960-1961, at the ships' capacity, followed by little demand, not as a smaller "
                "stream over 1962-1984. "
                + ("The documents give no yearly figure after 1960, only that the ships sailed "
                   "on, and a figure with no count holds that only loosely; "
                   if any(r["qualifier"] == "some" and r["fit"] for r in d["rows"]) else
                   "The documents give no yearly figure after 1960 to fit, so the calibration "
                   "cannot tell these apart; ")
                + "the posterior draws' band of total departures (table above) shows how "
                "loosely the total is held.")
        else:
            lines[-1] += (
                f" After the 1967 lapse {after_1967:,.0f} sail, in the project resumed in 1971. "
                "The letters can take away a household's belief in the North, but not the "
                "welfare cuts, the deportation risk or Soren's pressure, so a smaller stream goes "
                f"on. Deportees are {q['deportee_share_1962_1984']:.1%} of those who sail after "
                f"1961 and {q['deportee_share_all']:.1%} of all who sail.")
        if total_r["fit"] and total_r["calibrated"]["p50"] > total_r["high"]:
            lines[-1] += (" Total departures stay above the documented figure because the "
                          "waiting list of 1960 sails in 1961 rather than cancelling.")
        if total_r["fit"] and total_r["calibrated"]["p50"] < total_r["low"]:
            lines[-1] += (" Total departures fall short of the documented figure because much "
                          "of the waiting list of 1960 cancels in 1961 rather than sailing, and "
                          "few register after 1961.")
        lines += [
            "",
            "The brake on that waiting list is the letters of hardship from the second half of "
            "1960 (002): a registered household cancels when its doubt rises, and letters lower "
            "the belief in the North, and so raise doubt, in households with a network neighbour "
            "who left and, second-hand, in every household (`process.hearsay` = "
            f"{q['hearsay']:.3g} at the point: each household hears that share of the letters an "
            "average household gets from its own neighbours; each letter keeps "
            f"exp(-{q['letter_learning']:.3g}) = {math.exp(-q['letter_learning']):.1%} of the "
            "belief). Letters take away at most what belief adds to the propensity, so the "
            "pushes out of Japan and Soren's pressure still act once belief is gone. "
            f"At the point, with {q['side_reps']} replications at full scale each: without the "
            f"second-hand letters (hearsay 0: only neighbours of those who left hear) total "
            f"departures would be {q['departures_total_no_hearsay']:,.0f} (1961: "
            f"{q['departures_1961_no_hearsay']:,.0f}; registrations 1959-1967 "
            f"{q['registrations_no_hearsay']:,.0f}), against {q['departures_total']:,.0f} (1961: "
            f"{q['departures_1961']:,.0f}); with each letter taking four times as much belief "
            f"(`process.letter_learning` {4 * q['letter_learning']:.3g}, not "
            f"{q['letter_learning']:.3g}), {q['departures_total_letters_x4']:,.0f} (1961: "
            f"{q['departures_1961_letters_x4']:,.0f}).",
        ]
        nat = rows.get("japanese_national_departures")
        if nat and not nat["met"]:
            lines += [
                "",
                "**Japanese nationals.** At the point, the mixed households that leave take "
                f"{q['nationals_per_wife']:.2f} Japanese nationals per Japanese spouse "
                f"(`japanese_child_share` = {q['japanese_child_share']:.2f}); the documents' "
                "about 6,700 nationals (004) to about 1,800 wives (001, 003) is 3.7. The mixed "
                "households of the synthetic population (mean household size 4, an assumption) "
                f"hold on average {q['nationals_per_spouse_if_all_children']:.2f} persons besides "
                "the Korean head (the spouse and the children), the most the ratio could reach "
                "if every child were a Japanese national: the wives and the nationals can be met together only with "
                "larger mixed households or more spouses than the 1,800 wives (004: the spouses "
                "were 'most of them women').",
            ]
    return lines


def _scale_section(d: dict) -> list[str]:
    scale = d["scale"]
    lines = [
        "## Is the reduced scale sound?",
        "",
        f"Each particle is one replication at scale {scale} "
        f"({scale * 600000:,.0f} people). Every figure is a count of persons (or a share), so a "
        "run at scale s measures s times the full-population count with a sampling noise that "
        "grows as 1 / sqrt(s); the mechanism (households, their neighbourhoods of fixed size, "
        "ship places per person) does not depend on s. The table checks both claims at the "
        f"calibrated point, {d['reps']} replications at each scale (same seed), divided by the "
        "scale. *Shift* is the difference of the means in standard errors; *noise* is the "
        "standard deviation across replications at the calibration scale, beside the "
        "half-width of the tolerance. Where noise is not small beside the half-width, the "
        "calibration's distance widened that target's width to sqrt(half-width^2 + noise^2) "
        "(noise measured before calibrating at the hand-set point), so a noisy figure cannot "
        "drive the fit.",
        "",
        "| figure | full scale mean | sd | calibration scale mean | sd | shift (SE) "
        "| half-width | noise / half-width |",
        "|---|---|---|---|---|---|---|---|",
    ]
    biased = []
    for r in d["rows"]:
        if not r["produced"]:
            continue
        share = r["unit"] == "share"
        a, b = r["calibrated"], r["calibration_scale"]
        se0 = np.sqrt(a["sd"] ** 2 / d["reps"] + b["sd"] ** 2 / d["reps"])
        half0 = (r["high"] - r["low"]) / 2
        if se0 > 0 and abs(b["mean"] - a["mean"]) / se0 > 3:
            biased.append(f"{r['label']} ({(b['mean'] - a['mean']) / half0:+.2f} half-widths)")
        se = np.sqrt(a["sd"] ** 2 / d["reps"] + b["sd"] ** 2 / d["reps"])
        shift = (b["mean"] - a["mean"]) / se if se > 0 else 0.0
        half = (r["high"] - r["low"]) / 2
        lines.append(f"| {r['label']} | {_fmt(a['mean'], share)} | {_fmt(a['sd'], share)} | "
                     f"{_fmt(b['mean'], share)} | {_fmt(b['sd'], share)} | {shift:+.1f} | "
                     f"{_fmt(half, share)} | {b['sd'] / half:.2f} |")
    lines += ["", (
        "Shifts beyond 3 standard errors: " + "; ".join(biased) + ". They are systematic, not "
        "noise. For departures the likely cause is the boarding rule: ships take whole "
        "households until the month's places (ship capacity x scale, rounded) are full, so a "
        "few places a month stay empty whatever the scale, a larger share of a small ship. The "
        "cause of other shifts is not established here. Where a shift is below one half-width, "
        "the reduced scale cannot change which figures fit; where it is larger, the calibration "
        "is biased by that much for the figure (its posterior aims at the reduced-scale value), "
        "and the full-scale columns of the fit table are the ones to read."
    ) if biased else "No shift exceeds 3 standard errors."]
    return lines


def _method_section(d: dict) -> list[str]:
    run = d["run"]
    return [
        "## Method and reproducibility",
        "",
        f"- Targets: `{run['targets_file']}` (sha256 `{run['targets_sha256'][:12]}`); priors: "
        f"`{run['priors_file']}` (sha256 `{run['priors_sha256'][:12]}`). Each target's tolerance "
        "band and its reason are in the targets file.",
        "- Distance: Euclidean over the fitted figures, each error divided by "
        "sqrt(half-width^2 + noise^2); epsilon: pyABC's adaptive median; perturbation: "
        + {"local": "pyABC's `LocalTransition` (k_fraction 0.25)",
           "normal": "pyABC's multivariate normal kernel"}[run.get("transition", "normal")]
        + (f" with its covariance scaled by {run.get('kernel_scaling', 1.0):g}"
           if run.get("kernel_scaling", 1.0) != 1.0 else "")
        + (f", with {', '.join(f'`{k}`' for k in run.get('pyabc_log10_parameters', []))} "
           "sampled as base-10 logarithms" if run.get("pyabc_log10_parameters") else "")
        + "; stopping: the number of generations, of simulations, or the wall time.",
        "- Each particle's simulation seed is a hash of the calibration seed and its parameter "
        "values. With one worker (the default), pyABC draws its proposals from numpy's global "
        "generator, seeded with the calibration seed: the same command on the same code gives the "
        "same posterior. With `--workers` > 1 pyABC reseeds its worker processes from the "
        "operating system, and a resumed run continues with a fresh stream: the sample then "
        "differs run to run, in distribution only.",
        "- The database `abc.db` holds every generation (pyABC's SQLite history): "
        "`repatriation calibrate --resume` continues a killed calibration from its last "
        "complete generation.",
        "- The calibrated baseline is the posterior's point, read by "
        "`scenarios/historical.toml` from `[calibration] posterior`; a run's manifest holds the "
        "posterior file name, its sha256 and the values it set. "
        "`repatriation run-posterior scenarios/historical.toml --draws N` runs parameter sets "
        "drawn from the posterior (draw i runs replications i*k..i*k+k-1), so that bands hold "
        "parameter uncertainty.",
    ]
