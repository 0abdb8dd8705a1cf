"""The README is a front door whose every `srngan` command still parses as written: each
`srngan fit` resolves its whole config (``--print_config``: every class and key exists), each
other command is accepted by its own argument parser. The commands that train, sample and
evaluate are run end to end by their own tests (test_quickstart, test_bring_your_own,
test_evaluate_cli, test_sample_export, test_compare)."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex

import pytest
from conftest import REPO

from srngan.cli import main

README = (REPO / "README.md").read_text()


def _commands() -> list[list[str]]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("srngan "):
                commands.append(shlex.split(line)[1:])
    return commands


COMMANDS = _commands()


def test_readme_is_short_and_links_existing_pages():
    assert len(README.splitlines()) <= 260
    for target in re.findall(r"\]\(([^)#]+)", README):
        if "://" not in target:
            assert (REPO / target).exists(), target
    assert {c[0] for c in COMMANDS} >= {"fit", "sample", "evaluate", "stats", "compare"}


@pytest.mark.parametrize("args", [c for c in COMMANDS if c[0] == "fit"], ids=" ".join)
def test_readme_fit_commands_resolve_their_config(args, monkeypatch):
    monkeypatch.chdir(REPO)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as stop:
        main([*args, "--print_config"])
    assert stop.value.code in (0, None), out.getvalue()[-2000:]
    assert "class_path" in out.getvalue()


@pytest.mark.parametrize(
    "args", [c for c in COMMANDS if c[0] in ("sample", "evaluate", "stats", "export")], ids=" ".join
)
def test_readme_tool_commands_parse(args):
    parser = importlib.import_module(f"srngan.commands.{args[0]}").build_parser()
    parser.parse_args(args[1:])  # argparse exits with status 2 on an unknown option or value


def test_readme_compare_command_names_run_folders():
    (args,) = [c for c in COMMANDS if c[0] == "compare"]
    runs = [a for a in args[1:] if not a.startswith("--") and a != args[args.index("--out") + 1]]
    assert runs and all(re.fullmatch(r"runs/[\w.-]+/version_\d+", r) for r in runs), runs
