"""Reading finished (or running) `srngan fit` run folders: config, metrics, scalars, eLhist values.

Pure reading (no Lightning): a run folder is ``<save_dir>/<name>/version_N/`` with
``config.yaml`` (written by LightningCLI), ``metrics.jsonl`` (MetricsCallback), TensorBoard event
files and ``elhist/gstep_N.npz``. Missing pieces are simply absent from the :class:`Run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

# Config entries that differ between seeds or copies of one experiment, not between experiments.
_NOT_THE_EXPERIMENT = ("seed_everything", "ckpt_path", "trainer.logger", "trainer.default_root_dir")


@dataclass
class Run:
    """What one run folder holds."""

    path: Path
    config: dict = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)  # metrics.jsonl records, in order
    scalars: dict[str, list[tuple[int, float]]] = field(
        default_factory=dict
    )  # tag -> (step, value)
    elhist: dict[str, np.ndarray] = field(default_factory=dict)  # the last eLhist values

    @property
    def seed(self):
        return self.config.get("seed_everything")

    @property
    def name(self) -> str:
        logger = (self.config.get("trainer") or {}).get("logger") or {}
        init = logger.get("init_args", {}) if isinstance(logger, dict) else {}
        return init.get("name") or self.path.parent.name

    @property
    def experiment(self) -> str:
        """A key equal for runs of one config that differ only in seed (or output folder)."""
        return json.dumps(_without(self.config, _NOT_THE_EXPERIMENT), sort_keys=True, default=str)

    def final_metrics(self) -> dict[str, float]:
        """The latest value of every metric in ``metrics.jsonl`` (final_metrics included)."""
        out: dict[str, float] = {}
        for record in self.metrics:
            out.update({k: float(v) for k, v in record.items() if k != "g_step"})
        return out


def _without(config: dict, dotted: tuple[str, ...]) -> dict:
    out = {}
    for key, value in config.items():
        if key in dotted:
            continue
        inner = tuple(d.split(".", 1)[1] for d in dotted if d.startswith(f"{key}."))
        out[key] = _without(value, inner) if isinstance(value, dict) and inner else value
    return out


def read_run(path: str | Path) -> Run:
    """Read one run folder; a folder with none of the run files is a ValueError (one line)."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"run folder {path} not found")
    run = Run(path)
    if (path / "config.yaml").is_file():
        run.config = yaml.safe_load((path / "config.yaml").read_text()) or {}
    if (path / "metrics.jsonl").is_file():
        lines = (path / "metrics.jsonl").read_text().splitlines()
        run.metrics = [json.loads(x) for x in lines if x.strip()]
    events = sorted(path.glob("events.out.tfevents.*"))
    if events:
        run.scalars = _scalars(path)
    npz = sorted((path / "elhist").glob("gstep_*.npz")) if (path / "elhist").is_dir() else []
    if npz:
        with np.load(npz[-1]) as values:
            run.elhist = {k: values[k] for k in values.files}
    if not (run.config or run.metrics or events or npz):
        raise ValueError(
            f"{path} is not an srngan run folder (no config.yaml, metrics.jsonl, TensorBoard events "
            "or elhist/*.npz); pass runs/<name>/version_N"
        )
    return run


def _scalars(path: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
    acc.Reload()
    return {
        tag: [(e.step, float(e.value)) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]
    }
