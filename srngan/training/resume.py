"""``--ckpt_path last``: which run, and which of its checkpoints, a resumed ``srngan fit`` continues."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from srngan._lightning_private import set_logger_version
from srngan.errors import CommandError
from srngan.training.checkpoint_io import UnreadableCheckpoint, read_checkpoint
from srngan.training.upgrade import OutdatedCheckpoint, needs_upgrade, upgrade_hparams

# ckpt_path values Lightning resolves itself (srngan resolves "last").
SPECIAL_CKPT_PATHS = ("last", "best", "hpc", "registry")


def check_ckpt_path(ckpt_path: str | None) -> None:
    """One-line errors for an explicit ``--ckpt_path FILE`` that is missing or unreadable
    (:class:`CommandError`, :class:`~srngan.training.checkpoint_io.UnreadableCheckpoint`), before
    Lightning reads it with ``torch.load`` and fails with a traceback."""
    if not ckpt_path or ckpt_path in SPECIAL_CKPT_PATHS or "://" in str(ckpt_path):
        return
    if not Path(ckpt_path).is_file():
        raise CommandError(
            f"--ckpt_path {ckpt_path}: no such file; allowed: a checkpoint file, or last "
            "(the newest readable checkpoint of this config's newest run)"
        )
    read_checkpoint(ckpt_path)


def upgraded_model_config(ckpt_path: str | None) -> dict | None:
    """For ``--ckpt_path`` naming a checkpoint of srngan 0.2: its model config, upgraded to this
    version (:mod:`srngan.training.upgrade`), in the form LightningCLI parses a checkpoint's
    hyperparameters in; ``None`` for any other checkpoint (Lightning reads it itself)."""
    if not ckpt_path or ckpt_path in SPECIAL_CKPT_PATHS or "://" in str(ckpt_path):
        return None
    hparams = dict(read_checkpoint(ckpt_path).get("hyper_parameters", {}))
    if not needs_upgrade(hparams) or "_class_path" not in hparams:
        return None
    try:
        upgrade_hparams(hparams, {})
    except OutdatedCheckpoint as err:
        raise CommandError(f"--ckpt_path {ckpt_path} (srngan 0.2): {err}") from err
    hparams.pop("_instantiator", None)
    return {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}


def resume_last(trainer) -> Path:
    """``--ckpt_path last``: the checkpoint to continue from (:func:`find_last_checkpoint`), with
    the trainer's logger pointed at that run's own folder; ``FileNotFoundError`` without one."""
    talk = trainer.is_global_zero
    found = find_last_checkpoint(trainer, warn=talk)
    if found is None:
        where = trainer.logger.save_dir if trainer.logger else trainer.default_root_dir
        raise FileNotFoundError(
            f"--ckpt_path last: no earlier run with checkpoints/last.ckpt under {where}"
        )
    path, version = found
    if trainer.logger is not None and version is not None:
        set_logger_version(trainer.logger, version)  # keep logging into the resumed run's folder
    if talk:
        print(f"resuming from {path}", file=sys.stderr)
    return path


def find_last_checkpoint(trainer, warn: bool = True) -> tuple[Path, int | str | None] | None:
    """The newest readable checkpoint of the newest run, and that run's logger version.

    The newest run is the ``<save_dir>/<name>/version_*`` folder whose ``checkpoints/`` holds the
    most recently written ``.ckpt``. In it, every checkpoint (``last.ckpt``, ``gstep=*.ckpt``,
    ``emergency-gstep=*.ckpt``) is a candidate; the one furthest into training (by G-step, then
    D-step) that loads wins. Unreadable files are skipped, each with a one-line warning; a run
    whose checkpoints are all unreadable is a one-line error.
    """
    logger = trainer.logger
    if logger is None:
        folders = {
            p.parent: None for p in Path(trainer.default_root_dir).glob("**/checkpoints/*.ckpt")
        }
    else:
        root = Path(logger.save_dir) / (logger.name or "")
        folders = {}
        for p in root.glob("version_*/checkpoints/*.ckpt"):
            tag = p.parent.parent.name.removeprefix("version_")
            folders[p.parent] = int(tag) if tag.isdigit() else tag
    if not folders:
        return None

    def newest_write(folder: Path) -> float:
        return max(p.stat().st_mtime for p in folder.glob("*.ckpt"))

    folder = max(folders, key=newest_write)
    path = best_readable_checkpoint(folder, warn)
    return path, folders[folder]


_GSTEP_IN_NAME = re.compile(r"gstep=(\d+)")


def best_readable_checkpoint(folder: Path, warn: bool = True) -> Path:
    """The checkpoint in ``folder`` furthest into training that loads (see
    :func:`find_last_checkpoint`); :class:`CommandError` when none does."""

    def named_g_step(p: Path) -> float:
        match = _GSTEP_IN_NAME.search(p.name)
        return int(match.group(1)) if match else float("inf")  # unknown: always look inside

    last = folder / "last.ckpt"
    others = sorted((p for p in folder.glob("*.ckpt") if p != last), key=named_g_step, reverse=True)
    best, best_key, skipped = None, None, []
    for p in ([last] if last.is_file() else []) + others:
        if best_key is not None and named_g_step(p) < best_key[0]:
            break  # sorted by G-step: nothing further can be newer
        try:
            raw = read_checkpoint(p)
        except UnreadableCheckpoint as err:
            skipped.append(p)
            if warn:
                print(f"srngan: warning: skipping {err}", file=sys.stderr)
            continue
        state = raw.get("srngan", {})
        key = (state.get("g_step", 0), state.get("d_steps_since_g", 0), raw.get("global_step", 0))
        if best_key is None or key > best_key:  # ties: last.ckpt, read first, stays
            best, best_key = p, key
    if best is None:
        raise CommandError(
            f"--ckpt_path last: no readable checkpoint in {folder} "
            f"({len(skipped)} unreadable: {', '.join(p.name for p in skipped)})"
        )
    return best


__all__ = [
    "best_readable_checkpoint", "check_ckpt_path", "find_last_checkpoint", "resume_last",
    "upgraded_model_config",
]  # fmt: skip
