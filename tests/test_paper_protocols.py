"""The paper's evaluation protocols: eLhist pairs, Neural Divergence's data split, final metrics."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from srngan.data.datamodule import GANDataModule
from srngan.data.real import NO_LABEL, Unlabelled, nd_split
from srngan.evaluation import DatasetImages, EvalSettings, Evaluator, GeneratorImages
from srngan.evaluation.protocols import distinct_pair, elhist_of, real_sampler
from srngan.metrics.elhist import pair_ratios


class _Indexed(Dataset):
    """Image ``i`` is the constant ``i / 10``, so a pair's members can be told apart by value."""

    def __init__(self, labels: list[int]) -> None:
        self.labels = torch.tensor(labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return torch.full((3, 4, 4), i / 10), int(self.labels[i])


class _MeanD(torch.nn.Module):
    def forward(self, x, y=None):
        return x.flatten(1).mean(1) * 3


def _elhist(data: Dataset, classes: int, pairs: int = 2000):
    settings = EvalSettings(metrics=("elhist",), elhist_pairs=pairs, seed=0)
    return elhist_of(settings, GeneratorImages(_generate, 4, classes), data, _MeanD())


def _generate(z, y):
    return torch.tanh(z[:, :1, None, None]).expand(-1, 3, 4, 4).contiguous()


@pytest.mark.parametrize("classes", [0, 2])
def test_elhist_real_pairs_are_distinct_images(classes):
    # Two images per class: drawn with replacement, half the 2000 real-real pairs would repeat
    # an image (0 / 0 = NaN); without replacement none may.
    data = _Indexed([0, 0, 1, 1] if classes else [0, 0])
    real = real_sampler(data, seed=3)
    y = torch.randint(2, (2000,)) if classes else None
    a, b = real.pairs(2000, y)
    assert not torch.equal(a, b) and bool((a != b).flatten(1).any(1).all())
    if classes:  # both members come from the pair's class
        index_a, index_b = (a[:, 0, 0, 0] * 10).round().long(), (b[:, 0, 0, 0] * 10).round().long()
        assert torch.equal(data.labels[index_a], y) and torch.equal(data.labels[index_b], y)
    arrays = _elhist(data, classes)
    for kind, values in arrays.items():
        assert not torch.isnan(values).any(), kind
    assert arrays["real_real"].numel() == 2000


def test_distinct_pair_is_uniform_over_ordered_pairs():
    # 3 items: the 6 ordered pairs (i != j) each with probability 1/6; 60000 draws give a
    # binomial standard error of 0.0015 per cell, so 0.01 is > 6 sigma.
    a, b = distinct_pair(torch.full((60000,), 3), torch.Generator().manual_seed(0))
    assert not (a == b).any()
    freq = torch.bincount(a * 3 + b, minlength=9).double() / 60000
    expected = torch.tensor([0, 1, 1, 1, 0, 1, 1, 1, 0], dtype=torch.float64) / 6
    torch.testing.assert_close(freq, expected, atol=0.01, rtol=0)


def test_elhist_class_with_one_image_is_a_clear_error():
    data = _Indexed([0, 1, 1])
    with pytest.raises(
        ValueError, match="class 0 has 1 real images; eLhist real-real pairs need 2"
    ):
        _elhist(data, 2, pairs=50)


def test_pair_ratios_leave_out_identical_pairs():
    x = torch.randn(4, 3, 4, 4)
    y = x.clone()
    y[1:] += 1.0  # pair 0 is one image twice
    ratios = pair_ratios(_MeanD(), x, y)
    assert ratios.shape == (3,) and torch.isfinite(ratios).all()


@pytest.mark.parametrize(
    ("dataset", "split"),
    [("cifar10", "test"), ("cifar100", "test"), ("celeba", "train"), ("procedural", "test"),
     ("imagefolder", "test")],
)  # fmt: skip
def test_neural_divergence_split(dataset, split):
    # Appendix E.1: the critic sees the test set; footnote 13: CelebA's training set.
    assert nd_split(dataset) == split


def test_procedural_nd_dataset_is_the_test_split():
    dm = GANDataModule("procedural", num_images=20, num_workers=0)
    nd = dm.nd_dataset()
    assert torch.equal(nd.images, dm.make_dataset("test").images)
    assert not torch.equal(nd.images, dm.make_dataset("train").images)


def test_unlabelled_items_collate():
    from torch.utils.data import default_collate

    class _NoneTarget(Dataset):  # what torchvision's CelebA(target_type=[]) returns
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return torch.zeros(3, 2, 2), None

    x, y = default_collate([Unlabelled(_NoneTarget())[i] for i in range(3)])
    assert x.shape == (3, 3, 2, 2) and y.tolist() == [NO_LABEL] * 3


def test_domain_extractor_refuses_other_data():
    settings = EvalSettings(metrics=("fid",), extractor="domain")
    ev = Evaluator(settings, domain_classes=2, resolution=4)
    with pytest.raises(
        ValueError, match="domain extractor is a classifier of the procedural shapes only"
    ):
        ev.evaluate(GeneratorImages(_generate, 4, 2), DatasetImages(_Indexed([0, 1, 0, 1])))
