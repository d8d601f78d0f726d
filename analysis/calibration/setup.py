"""What every calibration method starts from: the inputs checked, the noise measured, the record.

``prepare`` reads the scenario, priors and targets, checks the output folder (a calibration in
it is replaced only with ``overwrite``, continued only with ``resume``), measures each figure's
sampling noise at the calibration's scale (or reads it back when resuming) and writes
``calibration_run.json`` before the first simulation, so that a calibration killed later can be
resumed or at least understood. ``mapper`` says where simulations run: this process, local
processes, or a Dask cluster.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sim.record import TARGETS_FILE, Figure, load_targets
from sim.rundir import recorded_path
from sim.scenario import scenario_file
from sim.schema import Scenario
from sim.staging import atomic_write_text

from .model import (
    Simulator,
    ToleranceDistance,
    base_scenario,
    fitted_figures,
    measure_noise,
    widths_of,
)
from .priors import Prior, load_priors
from .settings import Settings


@dataclass
class Inputs:
    """A calibration's checked inputs and its record (``meta``, as in calibration_run.json)."""

    priors: tuple[Prior, ...]
    figures: tuple[Figure, ...]
    scenario: Scenario
    out: Path
    meta: dict
    widths: dict[str, float]
    distance: ToleranceDistance
    simulator: Simulator

    @property
    def observed(self) -> dict[str, float]:
        return {f.key: f.centre for f in self.figures}

    @property
    def meta_path(self) -> Path:
        return self.out / "calibration_run.json"

    def save_meta(self) -> None:
        atomic_write_text(self.meta_path, json.dumps(self.meta, indent=2))


def prepare(settings: Settings, method: str, log=print) -> Inputs:
    """Check the inputs and the folder, measure (or read back) the noise, write the record
    (``method``: "smc" or "history-matching")."""
    targets_file = Path(settings.targets or TARGETS_FILE)
    scenario_path = scenario_file(settings.scenario)
    priors = load_priors(settings.priors)
    figures = fitted_figures(load_targets(targets_file))
    scenario = base_scenario(scenario_path, priors)
    out = Path(settings.out)
    db_path = out / "abc.db"
    meta_path = out / "calibration_run.json"
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    held = [p.name for p in (db_path, meta_path, out / "posterior.json") if p.exists()]
    if held and not settings.resume and not settings.overwrite:
        raise ValueError(
            f"{out} holds a calibration ({', '.join(held)}): --resume to continue it, "
            "--overwrite to replace it, or another --out"
        )
    if settings.resume and method != "smc":
        raise ValueError("--resume continues an ABC-SMC calibration only (--method smc)")
    out.mkdir(parents=True, exist_ok=True)

    if settings.resume:
        if not db_path.is_file() or not meta_path.is_file():
            raise FileNotFoundError(f"nothing to resume: {db_path} or {meta_path} is missing")
        try:
            meta = json.loads(meta_path.read_text())
            meta["noise"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(
                f"{meta_path}: not a calibration record written by `repatriation calibrate`; "
                "cannot resume (start afresh with --overwrite)"
            ) from None
        check_same_inputs(meta, settings)
    else:
        if db_path.exists():
            db_path.unlink()
        log(
            f"measuring the sampling noise at scale {settings.scale} "
            f"({settings.noise_reps} replications at the priors' start point)"
        )
        noise = measure_noise(scenario, settings.scale, settings.seed, settings.noise_reps, figures)
        meta = {
            "format": "repatriation-calibration-run/1",
            "method": method,
            "scenario_file": recorded_path(scenario_path),
            "scenario_sha256": scenario.digest(),
            "priors_file": recorded_path(settings.priors),
            "priors_sha256": _sha256(settings.priors),
            "targets_file": recorded_path(targets_file),
            "targets_sha256": _sha256(targets_file),
            "fitted_targets_sha256": fitted_digest(figures),
            "scale": settings.scale,
            "seed": settings.seed,
            "population_size": settings.population_size,
            "workers": settings.workers,
            "noise_reps": settings.noise_reps,
            "noise": noise,
            "sessions": [],
        }
        if method == "smc":
            meta.update(
                transition=settings.transition,
                kernel_scaling=settings.kernel_scaling,
                pyabc_scale="logit of the place in the prior's range (log scale if log-uniform)",
                pyabc_log10_parameters=[p.key for p in priors if p.dist == "loguniform"],
            )
        else:
            meta.update(runs_per_wave=settings.runs_per_wave, cutoff=settings.cutoff)
    widths = widths_of(figures, meta["noise"])
    inputs = Inputs(
        priors,
        figures,
        scenario,
        out,
        meta,
        widths,
        ToleranceDistance.of(figures, widths),
        Simulator(scenario, priors, figures, settings.scale, settings.seed),
    )
    if not settings.resume:
        inputs.save_meta()
    return inputs


@contextmanager
def mapper(settings: Settings) -> Iterator[Callable]:
    """Where simulations run: this process (``workers`` 1), a pool of local processes, or a
    Dask cluster (``scheduler``); results come back in order, so they are the same on each."""
    if settings.scheduler:
        from distributed import Client

        with Client(settings.scheduler, timeout="30s") as client:
            yield lambda f, tasks: client.gather(client.map(f, list(tasks), pure=False))
    elif settings.workers > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(settings.workers) as pool:
            yield pool.imap
            # Let the workers exit on their own (a terminated worker leaves the semaphores of
            # the libraries it imported for the resource tracker to warn about).
            pool.close()
            pool.join()
    else:
        yield map


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fitted_digest(figures: Sequence[Figure]) -> str:
    """A hash of what the distance reads from the targets file: each fitted figure's key,
    measure, metric, period and band (and what a "stock_less_total" takes off). Other edits of
    the file (comments, quotes, targets that are not fitted, such as the after-arrival stage's)
    leave it unchanged."""

    def read(f: Figure) -> list:
        less = [f.less_metric, list(f.less_period)] if f.less_metric else []
        return [f.key, f.kind, f.metric, list(f.period), f.unit, f.low, f.high, *less]

    text = json.dumps([read(f) for f in figures])
    return hashlib.sha256(text.encode()).hexdigest()


def check_same_inputs(meta: dict, settings: Settings) -> None:
    """Refuse to resume a calibration whose inputs changed since it started (ValueError)."""
    if meta["priors_sha256"] != _sha256(settings.priors):
        raise ValueError(
            f"cannot resume: {settings.priors} changed since the calibration "
            "started; start afresh (without --resume)"
        )
    targets_file = Path(settings.targets or TARGETS_FILE)
    figures = fitted_figures(load_targets(targets_file))
    if meta.get("fitted_targets_sha256", meta["targets_sha256"]) != fitted_digest(figures):
        raise ValueError(
            f"cannot resume: the fitted targets of {targets_file} changed since "
            "the calibration started; start afresh (without --resume)"
        )
    if meta.get("method", "smc") != "smc":
        raise ValueError("cannot resume: the calibration in this folder is not ABC-SMC")
    if (meta.get("transition", "normal"), meta.get("kernel_scaling", 1.0)) != (
        settings.transition,
        settings.kernel_scaling,
    ):
        raise ValueError(
            f"cannot resume with another --transition or --kernel-scaling (the run "
            f"used {meta.get('transition', 'normal')!r}, "
            f"{meta.get('kernel_scaling', 1.0)}); start afresh"
        )
    if meta["scale"] != settings.scale or meta["seed"] != settings.seed:
        raise ValueError("cannot resume with another --scale or --seed; start afresh")
