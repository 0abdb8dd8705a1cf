"""Equal-G-step comparison of quickstart candidates: class control vs. G-steps and time.

History: the candidates pass srngan 0.2 flags (see docs/quickstart.md, "Names since 0.3");
run them from the last 0.2 commit.

Each candidate is a config plus ``srngan fit`` overrides. A run trains with the real
``GANModule`` (no logger, no checkpoints), evaluates the class accuracy of class-conditional
EMA samples with the domain classifier (``srngan.metrics.domain``) every ``--eval-every``
G-steps, and appends one JSON line to ``results.jsonl`` (per-class accuracy included).

    OMP_NUM_THREADS=1 python experiments/quickstart/compare.py old_default --steps 1000
    python experiments/quickstart/compare.py --table         # the table of all results

Timing: training seconds only (evaluation excluded), with the thread count recorded.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from srngan.metrics.images import images_to_uint8
from srngan.nn.modes import eval_mode

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OLD = str(HERE / "old_quickstart.yaml")  # the quickstart before issue 11
GRIDS = Path("/tmp/qs")  # final 10 x 10 sample grids of each run
# The small-net quickstart before the spatial transformer (the base of the candidates below).
NEW = str(HERE / "quickstart_2000_nstn.yaml")
FINAL = str(REPO / "configs" / "quickstart.yaml")  # the committed quickstart

GLYPHS = ["--data.dataset", "imagefolder", "--data.root", "/tmp/glyphs"]

N1 = ["--model.n_dis", "1"]  # the first small-net version (n_dis 1), where the ablations were run
BASE32 = ["--model.generator.base_channels", "32", "--model.discriminator.base_channels", "32"]

AC = ["--model.class_loss_weight", "1.0", "--model.discriminator.aux_classifier", "true"]
TR = ["--model.discriminator.translate", "0.125"]

LAYERED = ["--model.generator.layered", "true"]
COORD = ["--model.generator.coord_channels", "true"]

STN = ["--model.generator.spatial_transform", "true"]

BETA0 = ["--model.betas", "[0.0, 0.99]"]

ROUND2 = str(HERE / "quickstart_round2.yaml")  # the quickstart after round 2
G32 = ["--model.generator.base_channels", "32"]
MM1 = ["--model.mismatch_weight", "1.0"]

CANDIDATES: dict[str, tuple[str, list[str]]] = {
    # The old quickstart (ResNets, base 64).
    "old_default": (OLD, []),
    # Small nets (base 16), n_dis 1, and single changes to them.
    "qs_ndis1": (NEW, N1),
    "qs_old_cond": (NEW, [*N1, "--model.discriminator.input_conditioning", "false",
                          "--model.generator.embed_dim", "0"]),
    "qs_noreg": (NEW, [*N1, "--model.regularizer", "null"]),
    "qs_lr2e-4": (NEW, [*N1, "--model.lr_g", "2e-4", "--model.lr_d", "2e-4"]),
    "qs_ttur": (NEW, [*N1, "--model.lr_g", "1e-4", "--model.lr_d", "4e-4", "--model.betas", "[0.0, 0.9]"]),
    "qs_bs64": (NEW, [*N1, "--data.batch_size", "64", "--model.g_batch_size", "64"]),
    "qs_dbase32": (NEW, [*N1, "--model.discriminator.base_channels", "32"]),
    "qs_ndis2": (NEW, ["--model.n_dis", "2"]),
    # n_dis 2 (the committed quickstart) and changes to it.
    "quickstart": (NEW, []),
    "ndis2_base32": (NEW, BASE32),
    "ndis2_noembed": (NEW, ["--model.generator.embed_dim", "0"]),
    "ndis2_no_d_input": (NEW, ["--model.discriminator.input_conditioning", "false"]),
    "ndis2_dbase32": (NEW, ["--model.discriminator.base_channels", "32"]),
    # After the domain classifier v2 (1.00 on real images): new D options and the AC term.
    "ac1": (NEW, AC),
    "ac1_tr": (NEW, [*AC, *TR]),
    "tr": (NEW, TR),
    "ac1_tr_mbstd": (NEW, [*AC, *TR, "--model.discriminator.minibatch_std", "4"]),
    "layered_coord": (NEW, [*LAYERED, *COORD]),
    "layered": (NEW, LAYERED),
    "coord": (NEW, COORD),
    "gbase32": (NEW, ["--model.generator.base_channels", "32"]),
    "ns": (NEW, ["--model.loss.class_path", "srngan.losses.NonSaturating"]),
    "ndis4": (NEW, ["--model.n_dis", "4"]),
    "tr_mbstd": (NEW, [*TR, "--model.discriminator.minibatch_std", "4"]),
    "stn": (NEW, STN),
    "stn_layered": (NEW, [*STN, *LAYERED]),
    "stn_lrg2": (NEW, [*STN, "--model.lr_g", "2e-4"]),
    "stn_beta0": (NEW, [*STN, "--model.betas", "[0.0, 0.99]"]),
    "beta0": (NEW, ["--model.betas", "[0.0, 0.99]"]),
    "stn_beta0_tr": (NEW, [*STN, *BETA0, *TR]),
    "stn_beta0_ac": (NEW, [*STN, *BETA0, *AC]),
    "stn_beta0_g32": (NEW, [*STN, *BETA0, "--model.generator.base_channels", "32"]),
    "stn_beta0_tr_ac": (NEW, [*STN, *BETA0, *TR, *AC]),
    "stn_beta0_tr_bs64": (NEW, [*STN, *BETA0, *TR, "--data.batch_size", "64", "--model.g_batch_size", "64"]),
    "stn_beta0_tr_d32": (NEW, [*STN, *BETA0, *TR, "--model.discriminator.base_channels", "32"]),
    "stn_beta0_tr_g32": (NEW, [*STN, *BETA0, *TR, "--model.generator.base_channels", "32"]),
    # The same settings on an image folder of glyphs
    # (python examples/make_glyph_folder.py /tmp/glyphs; classifier: trained on the folder).
    "quickstart_glyphs": (NEW, GLYPHS),
    # The committed quickstart (= stn_beta0_tr, 1000 G-steps) and on the glyph folder.
    "final": (FINAL, []),
    "final_glyphs": (FINAL, GLYPHS),
    "final_ema995": (FINAL, ["--model.ema_decay", "0.995"]),
    # Round 3 (docs/quickstart.md section 6), on the round-2 quickstart (frozen copy).
    "r2": (ROUND2, []),
    "r2_g64": (ROUND2, ["--model.generator.base_channels", "64"]),
    "r2_d64": (ROUND2, ["--model.discriminator.base_channels", "64"]),
    "r2_g32": (ROUND2, G32),
    "r2_g64_ndis1": (ROUND2, ["--model.generator.base_channels", "64", *N1]),
    "r2_g32_ndis1": (ROUND2, [*G32, *N1]),
    "r2_mm1": (ROUND2, MM1),
    "r2_mm1_g32": (ROUND2, [*MM1, *G32]),
    "r2_mm05_g32": (ROUND2, ["--model.mismatch_weight", "0.5", *G32]),
    "r2_mm1_g32_mbstd": (ROUND2, [*MM1, *G32, "--model.discriminator.minibatch_std", "4"]),
    "r2_mm1_g32_ms1": (ROUND2, [*MM1, *G32, "--model.mode_seeking_weight", "1.0"]),
    "r2_mm1_g32_ms025": (ROUND2, [*MM1, *G32, "--model.mode_seeking_weight", "0.25"]),
    "r2_mm1_g32_nostn": (ROUND2, [*MM1, *G32, "--model.generator.spatial_transform", "false"]),
    "r2_mm1_g32_d32": (ROUND2, [*MM1, *G32, "--model.discriminator.base_channels", "32"]),
    "r2_mm1_g32_ms025_hard3": (ROUND2, [*MM1, *G32, "--model.mode_seeking_weight", "0.25",
                                        "--model.mismatch_candidates", "3"]),
    "r2_mm1_g32_hard3": (ROUND2, [*MM1, *G32, "--model.mismatch_candidates", "3"]),
    "r2_mm1_g32_ms025_hard9": (ROUND2, [*MM1, *G32, "--model.mode_seeking_weight", "0.25",
                                        "--model.mismatch_candidates", "9"]),
}  # fmt: skip


def evaluate(module, classifier, per_class: int = 100, seed: int = 1234, second=None) -> dict:
    """Class accuracy of ``per_class`` conditional EMA samples per class, overall and per class
    (``second``: another classifier's, as ``acc2`` / ``per_class2``; ``acc_raw``: the domain
    classifier's on the raw G's samples, without EMA; ``acc_recal``: on the EMA's after
    re-estimating its BN statistics, see :func:`recalibrated_ema`)."""
    k = module.num_conditional_classes
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(k).repeat_interleave(per_class)
    z = torch.randn(labels.shape[0], module.z_dim, generator=g)
    ema = render(module.sampling_generator(), z, labels)
    judged = {"": (classifier, ema), "2": (second, ema)}
    if module.generator_ema is not None:  # without an EMA the samples above are the raw G's
        judged["_raw"] = (classifier, render(module.generator, z, labels))
        judged["_recal"] = (classifier, render(recalibrated_ema(module), z, labels))
    out = {}
    for suffix, (net, x) in judged.items():
        if net is None:
            continue
        hit = (net(x)[1].argmax(1) == labels).float().view(k, per_class).mean(1)
        out[f"acc{suffix}"] = round(float(hit.mean()), 4)
        out[f"per_class{suffix}"] = [round(float(a), 3) for a in hit]
    if k == 10 and second is not None:  # the shapes: mean coloured area per class (EMA samples)
        from shape_sizes import foreground_area

        area = foreground_area(ema.float() / 127.5 - 1).view(k, per_class).mean(1)
        out["area"] = [round(float(a), 3) for a in area]
    return out


def render(net, z: torch.Tensor, labels: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    """``net(z, labels)`` in eval mode, in chunks, as uint8 images (the metrics' quantization)."""
    with torch.no_grad(), eval_mode(net):
        return torch.cat([
            images_to_uint8(net(z[i : i + chunk], labels[i : i + chunk]))
            for i in range(0, labels.shape[0], chunk)
        ])  # fmt: skip


def recalibrated_ema(module, batches: int = 20, n: int = 100):
    """A copy of the EMA G whose BN statistics are re-estimated from its own train-mode passes
    (the EMA otherwise carries the raw G's statistics)."""
    import copy

    net = copy.deepcopy(module.generator_ema)
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a plain average over the passes below
    g = torch.Generator().manual_seed(99)
    net.train()
    with torch.no_grad():
        for _ in range(batches):
            y = torch.randint(module.num_conditional_classes, (n,), generator=g)
            net(torch.randn(n, module.z_dim, generator=g), y)
    return net


def folder_classifier(root: str, num_classes: int, resolution: int):
    """A domain-classifier network trained on 80% of an image folder; its accuracy on the rest."""
    from srngan.data.real import load_real_dataset
    from srngan.metrics.domain import train_domain_classifier

    data = load_real_dataset("imagefolder", root, "train", resolution)
    images = images_to_uint8(torch.stack([data[i][0] for i in range(len(data))]))
    labels = torch.tensor(data.targets)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    cut = int(0.8 * len(labels))
    train, test = order[:cut], order[cut:]
    net = train_domain_classifier(images[train], labels[train], num_classes, epochs=8)
    held_out = float((net(images[test])[1].argmax(1) == labels[test]).float().mean())
    return net, round(held_out, 4)


def run(
    name: str,
    steps: int,
    seed: int,
    eval_every: int,
    extra: list[str],
    tag: str = "",
    save: Path | None = None,
) -> dict:
    import lightning as L
    from saved_runs import save_module
    from strong_classifier import load_strong_classifier
    from torchvision.utils import make_grid, save_image

    from srngan.cli import instantiate
    from srngan.metrics.domain import load_domain_classifier
    from srngan.training.gstep import GStepCallback

    config, overrides = CANDIDATES[name]
    args = ["--config", config, *overrides, *extra, "--model.max_g_steps", str(steps)]
    args += ["--seed_everything", str(seed)]
    L.seed_everything(seed, verbose=False)
    module, data = instantiate(*args)
    classifier_acc = None
    if data.dataset_name == "imagefolder":
        classifier, classifier_acc = folder_classifier(
            data.root, module.num_conditional_classes, data.resolution
        )
        print("folder classifier held-out accuracy", classifier_acc, flush=True)
        second = None
    else:
        classifier = load_domain_classifier(module.num_conditional_classes, data.resolution)
        second = load_strong_classifier(module.num_conditional_classes)
    curve: list[dict] = []
    clock = {"eval": 0.0}

    class Probe(GStepCallback):
        def on_g_step_end(self, trainer, m):
            if m.g_step % eval_every == 0 or m.g_step == steps:
                t = time.perf_counter()
                curve.append({"g_step": m.g_step, **evaluate(m, classifier, second=second)})
                clock["eval"] += time.perf_counter() - t
                print(name, curve[-1], flush=True)

    trainer = L.Trainer(
        accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, max_epochs=-1, callbacks=[Probe()],
    )  # fmt: skip
    start = time.perf_counter()
    trainer.fit(module, datamodule=data)
    seconds = time.perf_counter() - start - clock["eval"]
    labels = torch.arange(module.num_conditional_classes).repeat_interleave(10)
    z = torch.randn(len(labels), module.z_dim, generator=torch.Generator().manual_seed(1234))
    grid = make_grid(module.generate(z, labels) * 0.5 + 0.5, nrow=10, padding=1)
    save_image(grid, GRIDS / f"{tag or name}_s{seed}_{steps}.png")
    if save is not None:  # the trained module, for d_scores.py and shape_sizes.py
        save_module(module, args, save)
    return {
        "name": tag or name, "seed": seed, "steps": steps, "threads": torch.get_num_threads(),
        "train_s": round(seconds, 1), "s_per_step": round(seconds / steps, 4),
        "extra": extra, "classifier_acc": classifier_acc, "final": curve[-1], "curve": curve,
    }  # fmt: skip


def table(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(
        f"{'name':28} {'seed':>4} {'steps':>5} {'thr':>3} {'s/step':>7} {'acc':>6} {'min cls':>7}  curve"
    )
    for r in rows:
        f = r["final"]
        curve = " ".join(f"{c['g_step']}:{c['acc']:.2f}" for c in r["curve"])
        label = r["name"] + ("*" if r["extra"] else "")
        print(f"{label:28} {r['seed']:>4} {r['steps']:>5} {r['threads']:>3} {r['s_per_step']:>7.3f} "
              f"{f['acc']:>6.3f} {min(f['per_class']):>7.2f} {f.get('acc2', float('nan')):>6.3f} "
              f"{min(f.get('per_class2', [float('nan')])):>5.2f}  {curve}")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("name", nargs="?", choices=sorted(CANDIDATES))
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--results", type=Path, default=HERE / "results.jsonl")
    p.add_argument("--table", action="store_true")
    p.add_argument(
        "--tag", default="", help="name of the run in the results and grid (default: the candidate)"
    )
    p.add_argument("--save", type=Path, help="also save the trained module's state to this file")
    a, extra = p.parse_known_args()
    GRIDS.mkdir(exist_ok=True)  # the rest: more `srngan fit` overrides
    a.extra = extra
    if a.table:
        table(a.results)
        return
    record = run(a.name, a.steps, a.seed, a.eval_every, a.extra, a.tag, a.save)
    with a.results.open("a") as f:
        f.write(json.dumps(record) + "\n")
    print(json.dumps(record["final"]), f"{record['train_s']} s")


if __name__ == "__main__":
    main()
