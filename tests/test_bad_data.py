"""Bad image folders: found before training with one line naming the files, or they just work."""

import pytest
import torch
from PIL import Image

from srngan.data.datamodule import GANDataModule
from srngan.data.real import BadImageFolderError, load_real_dataset


def _image_folder(root, classes=("cats", "dogs"), per_class=4):
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (32, 32), color=(40 * i, 0, 0)).save(root / c / f"{i}.png")
    return root


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_unreadable_images_are_named_before_training(tmp_path):
    root = _image_folder(tmp_path / "imgs")
    Image.new("RGB", (64, 64), color=(1, 2, 3)).save(root / "cats" / "big.png")
    _truncate(root / "cats" / "big.png")
    (root / "dogs" / "fake.jpg").write_bytes(b"this is not a jpeg")
    with pytest.raises(BadImageFolderError) as err:
        load_real_dataset("imagefolder", root, "train", 32)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"2 unreadable image(s) in {root}: cats/big.png (")
    assert "dogs/fake.jpg (cannot identify image file" in message
    assert "remove or replace them" in message


def test_bad_image_stops_fit_with_one_line_and_no_traceback(tmp_path, tiny_fit, capsys):
    root = _image_folder(tmp_path / "imgs", per_class=8)
    _truncate(root / "dogs" / "3.png")
    with pytest.raises(SystemExit) as exit_info:
        tiny_fit(tmp_path / "runs", "--data.dataset", "imagefolder", "--data.root", str(root))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("srngan: error:")]
    assert len(lines) == 1 and f"1 unreadable image(s) in {root}: dogs/3.png (" in lines[0]
    assert "Traceback" not in err
    assert not list((tmp_path / "runs").rglob("*.ckpt"))  # stopped before training


def test_mixed_sizes_and_modes_train(tmp_path, tiny_fit):
    root = tmp_path / "imgs"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
    Image.new("RGB", (40, 30), (255, 0, 0)).save(root / "a" / "rgb.png")
    Image.new("L", (17, 50), 128).save(root / "a" / "gray.png")
    Image.new("RGBA", (64, 64), (0, 255, 0, 10)).save(root / "a" / "rgba.png")
    Image.new("P", (33, 33)).save(root / "a" / "palette.png")
    Image.new("CMYK", (48, 48), (0, 0, 0, 0)).save(root / "b" / "cmyk.jpg")
    Image.new("I;16", (20, 20)).save(root / "b" / "sixteen.png")
    Image.new("1", (32, 32), 1).save(root / "b" / "bits.bmp")
    Image.new("RGB", (128, 96), (0, 0, 255)).save(root / "b" / "big.jpg")
    (root / "b" / "notes.txt").write_text("not an image: ignored by extension")
    dataset = load_real_dataset("imagefolder", root, "train", 32)
    assert len(dataset) == 8
    for image, label in dataset:
        assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and label in (0, 1)
        assert -1 <= image.min() and image.max() <= 1
    run = tiny_fit(tmp_path / "runs", "--data.dataset", "imagefolder", "--data.root", str(root),
                   "--model.max_g_steps", "2")  # fmt: skip
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_empty_class_folder_is_one_line(tmp_path):
    root = _image_folder(tmp_path / "imgs")
    (root / "birds").mkdir()
    (root / "birds" / "readme.txt").write_text("no images here")
    with pytest.raises(BadImageFolderError, match=r"class folder\(s\) with no images: birds; add"):
        load_real_dataset("imagefolder", root, "train", 32)


@pytest.mark.parametrize("content", ["nothing", "non-images", "loose images"])
def test_folder_without_images_is_one_line(tmp_path, content):
    root = tmp_path / "imgs"
    root.mkdir()
    if content == "non-images":
        (root / "a").mkdir()
        (root / "a" / "x.txt").write_text("x")
        expected = f"image folder {root} has no images (extensions"
    elif content == "loose images":
        Image.new("RGB", (8, 8)).save(root / "x.png")
        expected = f"its 1 images lie directly in it: move them into {root}/<class>/"
    else:
        expected = f"image folder {root} has no class sub-folders; expected {root}/<class>/<image>"
    with pytest.raises(BadImageFolderError) as err:
        load_real_dataset("imagefolder", root, "train", 32)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_single_class_folder_is_unconditional(tmp_path):
    root = _image_folder(tmp_path / "imgs", classes=("faces",))
    data = GANDataModule("imagefolder", root=str(root), batch_size=2, num_workers=0)
    assert data.num_classes == 0  # one class: nothing to condition on
    images, _ = next(iter(data.train_dataloader()))
    assert images.shape == (2, 3, 32, 32)
