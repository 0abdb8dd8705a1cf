"""The examples in the public docstrings of srngan.nn run and print what they say."""

import doctest
import importlib

import pytest

# By module path: srngan.nn re-exports functions under the same names as their modules.
MODULES = [
    "srngan.nn.stable_rank_norm",
    "srngan.nn.normalize",
    "srngan.nn.ortho",
    "srngan.nn.diagnostics",
    "srngan.models.init",
    "srngan.training.finite",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0
