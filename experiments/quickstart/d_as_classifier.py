"""Can the quickstart's discriminator tell the shapes apart? ``SmallDiscriminator`` with its
auxiliary class head, trained as a plain classifier on the procedural images (batch 32, the
GAN's Adam settings of the section-3 quickstart), with and without SRN-70, and at base 32;
accuracy on 1000 held-out images every 1000 steps, overall and per class. History: the class
head was removed in 0.3 (no gain); run this from the last 0.2 commit (docs/quickstart.md).

    OMP_NUM_THREADS=1 python experiments/quickstart/d_as_classifier.py

Measured (docs/quickstart.md, section 4): 1.00 on every class after 1000 steps in all three.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from srngan.data.procedural import ShapesDataset
from srngan.models import SmallDiscriminator
from srngan.regularizers import StableRankNorm


def run(base: int, srn: bool, steps: int = 4000, lr: float = 5e-4) -> None:
    train, test = ShapesDataset(10000, 10, 32, 0), ShapesDataset(1000, 10, 32, 5)
    x, y = train.images.float() / 127.5 - 1, train.labels
    x_test, y_test = test.images.float() / 127.5 - 1, test.labels
    d = SmallDiscriminator(32, 10, base, aux_classifier=True)
    if srn:
        d = StableRankNorm(0.7).apply(d)
    opt = torch.optim.Adam(d.parameters(), lr, betas=(0.5, 0.999))
    start = time.perf_counter()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(y), (32,))
        loss = F.cross_entropy(d.logits_and_classes(x[idx], y[idx])[1], y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 1000 == 0:
            d.eval()
            with torch.no_grad():
                hit = (d.logits_and_classes(x_test, y_test)[1].argmax(1) == y_test).float()
            d.train()
            per_class = [round(float(hit[y_test == k].mean()), 2) for k in range(10)]
            print(f"base {base} srn {srn} step {step}: {float(hit.mean()):.3f} {per_class} "
                  f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for base, srn in ((16, True), (16, False), (32, True)):
        run(base, srn)
