"""The procedural dataset and the real-dataset loaders' offline errors."""

import pytest
import torch

from srngan.data import DatasetNotFoundError, ShapesDataset, class_names, load_real_dataset
from srngan.data.datamodule import GANDataModule


def test_procedural_is_deterministic_labelled_and_in_range():
    a, b = ShapesDataset(100, 10, seed=3), ShapesDataset(100, 10, seed=3)
    c = ShapesDataset(100, 10, seed=4)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)
    x, y = a[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert -1 <= float(x.min()) and float(x.max()) <= 1
    assert isinstance(y, int)
    assert torch.bincount(a.labels, minlength=10).tolist() == [10] * 10


def test_procedural_rendering_in_slices_changes_no_value(monkeypatch):
    # The geometry is rendered a slice of images at a time to bound its memory; every step is
    # per image, so any slice size must give the very same images as one slice of all of them.
    from srngan.data import procedural

    labels = torch.arange(70) % 20
    images = {}
    for slice_size in (70, 16, 1):
        monkeypatch.setattr(procedural, "_RENDER_SLICE", slice_size)
        images[slice_size] = procedural.render_shapes(labels, torch.Generator().manual_seed(3), 20)
    assert torch.equal(images[16], images[70]) and torch.equal(images[1], images[70])


def test_procedural_classes_differ_in_colour():
    ds = ShapesDataset(400, 10, seed=0)
    imgs = ds.images.float()
    # Class 0 is red, class 1 blue: the most saturated pixels differ in their dominant channel.
    red = imgs[ds.labels == 0][:, 0].amax(dim=(1, 2)).mean()
    blue = imgs[ds.labels == 1][:, 2].amax(dim=(1, 2)).mean()
    red_in_blue = imgs[ds.labels == 1][:, 0].amax(dim=(1, 2)).mean()
    assert red > red_in_blue and blue > 200


def test_class_names_and_bounds():
    assert class_names(10)[:3] == ["red circle", "blue circle", "red square"]
    with pytest.raises(ValueError, match="num_classes must be in"):
        ShapesDataset(10, num_classes=21)


@pytest.mark.parametrize(
    ("name", "folder"),
    [("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python"), ("celeba", "celeba")],
)
def test_missing_real_dataset_is_a_one_line_error(tmp_path, name, folder):
    with pytest.raises(DatasetNotFoundError) as err:
        load_real_dataset(name, tmp_path, "train", 32, download=False)
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / folder) in msg and "--data.download true" in msg


def test_missing_image_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"image folder .* not found"):
        load_real_dataset("imagefolder", tmp_path / "nope", "train", 32)


def test_image_folder_loads(tmp_path):
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        Image.new("RGB", (40, 40), color=(255, 0, 0)).save(tmp_path / cls / "x.png")
    dm = GANDataModule("imagefolder", root=str(tmp_path), batch_size=2, num_workers=0)
    assert dm.num_classes == 2
    x, y = next(iter(dm.train_dataloader()))
    assert set(y.tolist()) <= {0, 1}
    assert x.shape == (2, 3, 32, 32)
    torch.testing.assert_close(x[:, 0], torch.ones(2, 32, 32))  # red -> +1 after [-1, 1] scaling


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; allowed: procedural, cifar10"):
        GANDataModule("mnist")
