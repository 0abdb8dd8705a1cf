"""benchmarks/gpu.py (the device script of issue 23) runs end to end on a CPU with ``--tiny``
and prints every row of its table; ``--no-write`` leaves benchmarks/README.md alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.py"


# Paper-layout nets at small widths, Inception-v3 on ~160 images, four Lightning fits and a CLI
# fit, each in its own process: a few minutes on the 2-core development machine.
@pytest.mark.slow
def test_gpu_script_runs_on_cpu_tiny(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from gpu import ROWS, fast_available
    finally:
        sys.path.remove(str(SCRIPT.parent))
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--tiny", "--no-write", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    table = out.stdout[out.stdout.index("| row | measured | goal |") :]
    for row in ROWS:
        assert f"| {row} |" in table, f"row {row!r} missing:\n{table}"
    assert "failed" not in table, table
    if not fast_available():
        assert "not available" in table
    assert (tmp_path / "cifar10_cond_srn70_procedural_samples.png").is_file()
    assert (ROOT / "benchmarks" / "README.md").read_text() == readme  # --no-write
