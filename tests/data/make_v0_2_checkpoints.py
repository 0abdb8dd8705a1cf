"""Writes the committed 0.2 checkpoints ``v0_2_gan.ckpt`` and ``v0_2_classifier.ckpt``.

They were written by srngan 0.2.0 (commit 8c6f142) with this script, before the public paths
(``srngan.GANModule``...) existed; ``tests/test_checkpoint_compat.py`` loads them with the
current code. Rerunning it now would write current-format checkpoints, which is not the point:
keep the committed files.

    python tests/data/make_v0_2_checkpoints.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from srngan.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def main_() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # The quickstart (the 0.2 checkpoint most users hold), shrunk to tiny nets.
        main(["fit", "--config", str(REPO / "configs/quickstart.yaml"),
              "--model.generator.base_channels", "4", "--model.discriminator.base_channels", "4",
              "--model.generator.z_dim", "8", "--model.generator.embed_dim", "4",
              "--model.max_g_steps", "2", "--model.n_dis", "1", "--model.d_warmup_steps", "1",
              "--model.g_batch_size", "4", "--data.num_images", "16", "--data.batch_size", "4",
              "--trainer.callbacks=[]", "--trainer.enable_model_summary", "false",
              "--checkpoint.every_n_g_steps", "0",
              "--samples.every_n_g_steps", "0", "--spectra.every_n_g_steps", "0",
              "--trainer.logger.init_args.save_dir", tmp, "--trainer.default_root_dir", tmp])  # fmt: skip
        (last,) = Path(tmp).glob("quickstart/version_0/checkpoints/last.ckpt")
        shutil.copy(last, HERE / "v0_2_gan.ckpt")
    with tempfile.TemporaryDirectory() as tmp:
        main(["fit", "--config", str(REPO / "configs/classify/procedural_small_cnn.yaml"),
              "--model.init_args.network.init_args.width", "4", "--trainer.max_epochs", "1",
              "--data.init_args.procedural_images", "32", "--data.init_args.batch_size", "16",
              "--trainer.callbacks=[]", "--trainer.enable_model_summary", "false",
              "--trainer.enable_progress_bar", "false",
              "--trainer.logger.init_args.save_dir", tmp, "--trainer.default_root_dir", tmp])  # fmt: skip
        (last,) = Path(tmp).glob("classify_procedural/version_0/checkpoints/*.ckpt")
        shutil.copy(last, HERE / "v0_2_classifier.ckpt")
    write_reference()


def write_reference() -> None:
    """``v0_2_reference.pt``: what the 0.2 code computed from these checkpoints (EMA G's images
    for fixed latents and labels, the classifier's logits for fixed images)."""
    import torch

    from srngan.classification import ClassifierModule
    from srngan.training.module import GANModule

    gan = GANModule.load_from_checkpoint(HERE / "v0_2_gan.ckpt", map_location="cpu").eval()
    g = torch.Generator().manual_seed(0)
    z, labels = torch.randn(4, 8, generator=g), torch.arange(4)
    images = gan.generate(z, labels)
    classifier = ClassifierModule.load_from_checkpoint(
        HERE / "v0_2_classifier.ckpt", map_location="cpu"
    ).eval()
    x = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    with torch.no_grad():
        logits = classifier(x)
    torch.save({"z": z, "labels": labels, "images": images, "classifier_input": x,
                "classifier_logits": logits}, HERE / "v0_2_reference.pt")  # fmt: skip


if __name__ == "__main__":
    main_()
