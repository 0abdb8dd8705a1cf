"""How fast does a D alone learn to bind each class to its shape? (No G.)

The quickstart's D (from ``configs/quickstart.yaml`` plus ``srngan fit`` overrides, SRN
applied) trains on real images only: hinge on ``(x, y)`` as real and ``(x, wrong y)`` as fake,
the wrong class chosen as in training (``GANModule._hard_wrong_labels``, objective ``mm``), or
hinge on ``(x, y)`` plus softmax cross-entropy over the projection scores ``<embed(c), h>``
(objective ``ce``; needs ``--model.discriminator.input_conditioning false``). Every 250 steps it
prints the label accuracy on 1000 held-out images: the label D scores highest, per class.

    OMP_NUM_THREADS=1 python experiments/quickstart/d_binding.py --steps 1000
    OMP_NUM_THREADS=1 python experiments/quickstart/d_binding.py --model.discriminator.downsample maxpool
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from srngan.cli import instantiate
from srngan.data.procedural import ShapesDataset
from srngan.nn.modes import eval_mode


def label_accuracy(d, x, y, k: int) -> tuple[float, list[float]]:
    with torch.no_grad(), eval_mode(d):
        scores = torch.stack([d(x, torch.full_like(y, c)) for c in range(k)], 1)
    hit = (scores.argmax(1) == y).float()
    return round(float(hit.mean()), 3), [round(float(hit[y == c].mean()), 2) for c in range(k)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--objective", choices=["mm", "ce"], default="mm")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--beta1", type=float, default=0.0)
    a, overrides = p.parse_known_args()  # the rest: `srngan fit` overrides for the D
    torch.manual_seed(a.seed)
    config = ["--config", "configs/quickstart.yaml", "--seed_everything", str(a.seed)]
    module, _ = instantiate(*config, *overrides)
    d, k = module.discriminator, module.num_conditional_classes
    opt = torch.optim.Adam(d.parameters(), lr=a.lr, betas=(a.beta1, 0.99))
    data = ShapesDataset(10000, k)
    images, labels = data.images.float() / 127.5 - 1, data.labels
    start = time.perf_counter()
    for step in range(1, a.steps + 1):
        idx = torch.randint(0, 9000, (a.batch,))  # the last 1000 images are held out
        x, y = images[idx], labels[idx]
        if a.objective == "mm":
            logits = d(torch.cat([x, x]), torch.cat([y, module._hard_wrong_labels(x, y)]))
            loss = F.relu(1 - logits[: a.batch]).mean() + F.relu(1 + logits[a.batch :]).mean()
        else:
            h = d.features(x, y)
            loss = F.relu(1 - d.linear(h).squeeze(1) - (d.embed(y) * h).sum(1)).mean()
            loss = loss + F.cross_entropy(h @ d.embed.weight.T, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0:
            acc = label_accuracy(d, images[9000:], labels[9000:], k)
            print(step, f"{time.perf_counter() - start:.0f}s", "label accuracy", *acc, flush=True)


if __name__ == "__main__":
    main()
