"""Checkpoints of srngan 0.2, read as the current version's (pure Python: dicts in, dicts out).

srngan 0.2 recorded, in a checkpoint's hyperparameters, options that were removed since:

- ``GANModule``'s seven term flags. ``mismatch_weight`` / ``mismatch_candidates``,
  ``feature_matching_weight``, ``colour_matching_weight`` and ``mode_seeking_weight`` are the
  terms :class:`~srngan.terms.MatchingAwareD`, :class:`~srngan.terms.ClassMatching`
  (``statistics="discriminator"`` / ``"colour"``) and :class:`~srngan.terms.ModeSeeking` with the
  same weights (in the quickstart's order); ``class_loss_weight`` (the AC-GAN head) is gone.
- ``SmallGenerator(coord_channels, layered)`` and ``SmallDiscriminator(aux_classifier,
  minibatch_std)``, which measured no gain: off, they are dropped; on, the checkpoint does not
  load (a one-line error).
- ``ClassifierModule(normalization, rank_ratio, n_power_iterations)``: the
  :class:`~srngan.regularizers.SpectralNorm` / :class:`~srngan.regularizers.StableRankNorm`
  ``regularizer`` that builds the same parametrizations.

Class paths of 0.2 (``srngan.training.module.GANModule``...) need nothing: those modules still
define the classes. :func:`upgraded` hands ``load_from_checkpoint`` an in-memory upgraded copy
of a 0.2 checkpoint (weights untouched) and the path itself for a current one.
"""

from __future__ import annotations

import importlib
import io
import os
from typing import IO, Any

# GANModule's 0.2 flags -> (term class path, its arguments); the order is the quickstart's.
_GAN_FLAGS = (
    "class_loss_weight", "mismatch_weight", "mismatch_candidates", "mode_seeking_weight",
    "feature_matching_weight", "colour_matching_weight",
)  # fmt: skip

# Network options of 0.2 that no longer exist, by the class_path names of their networks.
_REMOVED_OPTIONS = {
    "SmallGenerator": ("coord_channels", "layered"),
    "SmallDiscriminator": ("aux_classifier", "minibatch_std"),
}

_CLASSIFIER_REGULARIZERS = {
    "sn": "srngan.regularizers.SpectralNorm",
    "srn": "srngan.regularizers.StableRankNorm",
}


class OutdatedCheckpoint(ValueError):
    """A 0.2 checkpoint that uses an option this version no longer has (one line)."""


def needs_upgrade(hparams: dict) -> bool:
    """Whether a checkpoint's hyperparameters hold options of srngan 0.2 that no longer exist."""
    if any(k in hparams for k in (*_GAN_FLAGS, "normalization")):
        return True
    return any(_removed(hparams.get(net)) for net in ("generator", "discriminator"))


def upgrade_hparams(hparams: dict, kwargs: dict) -> None:
    """Rewrite 0.2 hyperparameters as the current ones, in place.

    A checkpoint built by ``srngan fit`` records its objects as ``class_path`` configs: the new
    ones (terms, a regularizer) are written as configs too. One built in Python records none:
    they are added to ``kwargs`` (the ``load_from_checkpoint`` arguments) as objects, unless the
    caller passes them already.
    """
    from_cli = "_instantiator" in hparams
    new: dict[str, Any] = {}
    if any(k in hparams for k in _GAN_FLAGS):
        flags = {k: hparams.pop(k) for k in _GAN_FLAGS if k in hparams}
        if flags.get("class_loss_weight"):
            raise OutdatedCheckpoint(
                f"it was trained with class_loss_weight={flags['class_loss_weight']} (the AC-GAN "
                "head, removed after srngan 0.2); it does not load in this version"
            )
        terms = []
        if flags.get("mismatch_weight"):
            terms.append(("srngan.terms.MatchingAwareD", {
                "weight": flags["mismatch_weight"],
                "candidates": flags.get("mismatch_candidates", 1),
            }))  # fmt: skip
        for flag, statistics in (("feature_matching_weight", "discriminator"),
                                 ("colour_matching_weight", "colour")):  # fmt: skip
            if flags.get(flag):
                terms.append(
                    (
                        "srngan.terms.ClassMatching",
                        {"weight": flags[flag], "statistics": statistics},
                    )
                )
        if flags.get("mode_seeking_weight"):
            terms.append(("srngan.terms.ModeSeeking", {"weight": flags["mode_seeking_weight"]}))
        if terms:
            new["terms"] = terms
    for net in ("generator", "discriminator"):
        config = hparams.get(net)
        for option, value in _removed(config).items():
            if value:
                raise OutdatedCheckpoint(
                    f"its {net} was built with {option}={value!r} (removed after srngan 0.2); it "
                    "does not load in this version"
                )
            config["init_args"].pop(option)
    if "normalization" in hparams:
        kind = hparams.pop("normalization")
        ratio = hparams.pop("rank_ratio", 0.5)
        iterations = hparams.pop("n_power_iterations", 1)
        if kind in _CLASSIFIER_REGULARIZERS:
            args = {
                "n_power_iterations": iterations,
                **({"rank_ratio": ratio} if kind == "srn" else {}),
            }
            new["regularizer"] = (_CLASSIFIER_REGULARIZERS[kind], args)
        else:
            new["regularizer"] = None
    for key, value in new.items():
        if from_cli:
            hparams[key] = _as_config(value)
        elif key not in kwargs:
            kwargs[key] = _as_object(value)


def upgraded(
    checkpoint_path: str | os.PathLike | IO, kwargs: dict, raw: dict | None = None
) -> str | os.PathLike | IO:
    """What to hand Lightning's ``load_from_checkpoint``: an in-memory upgraded copy of a 0.2
    checkpoint (``kwargs`` may gain objects, see :func:`upgrade_hparams`), else the path as it
    is. Streams are passed through. ``raw``: the checkpoint's dict when the caller has read it
    already (it is not read again; it is changed in place when upgraded)."""
    if not isinstance(checkpoint_path, (str, os.PathLike)):
        return checkpoint_path
    import torch

    from srngan.errors import CommandError
    from srngan.training.checkpoint_io import read_checkpoint

    raw = read_checkpoint(checkpoint_path) if raw is None else raw
    hparams = raw.get("hyper_parameters", {})
    if not needs_upgrade(hparams):
        return checkpoint_path
    try:
        upgrade_hparams(hparams, kwargs)
    except OutdatedCheckpoint as err:
        raise CommandError(f"checkpoint {checkpoint_path} (srngan 0.2): {err}") from err
    buffer = io.BytesIO()
    torch.save(raw, buffer)
    buffer.seek(0)
    return buffer


def _removed(config: Any) -> dict[str, Any]:
    """The removed options set in a network's ``class_path`` config."""
    if not isinstance(config, dict) or not isinstance(config.get("init_args"), dict):
        return {}
    name = str(config.get("class_path", "")).rpartition(".")[2]
    return {
        k: config["init_args"][k]
        for k in _REMOVED_OPTIONS.get(name, ())
        if k in config["init_args"]
    }


def _as_config(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [_as_config(v) for v in value]
    class_path, init_args = value
    return {"class_path": class_path, "init_args": dict(init_args)}


def _as_object(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [_as_object(v) for v in value]
    class_path, init_args = value
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)(**init_args)


__all__ = ["OutdatedCheckpoint", "needs_upgrade", "upgrade_hparams", "upgraded"]
