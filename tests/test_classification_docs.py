"""The docstring examples of srngan.classification run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "srngan.classification.networks",
    "srngan.classification.networks.resnet",
    "srngan.classification.networks.wide_resnet",
    "srngan.classification.networks.densenet",
    "srngan.classification.networks.vgg",
    "srngan.classification.networks.alexnet",
    "srngan.classification.networks.small",
    "srngan.classification.measures",
    "srngan.classification.noise",
    "srngan.classification.random_labels",
    "srngan.classification.report",
    "srngan.classification.module",
    "srngan.classification.datamodule",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


def test_pure_modules_import_no_lightning():
    import subprocess
    import sys

    code = (
        "import sys, srngan.classification.networks, srngan.classification.measures, "
        "srngan.classification.noise, srngan.classification.random_labels, "
        "srngan.classification.report, srngan.classification.layers; "
        "print(any(m == 'lightning' or m.startswith(('lightning.', 'pytorch_lightning')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
