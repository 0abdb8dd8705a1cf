"""Reading run folders and comparing runs (pure reading and plotting; no Lightning)."""

from srngan.analysis.compare import compare, comparison_table, group_runs
from srngan.analysis.runs import Run, read_run

__all__ = ["Run", "compare", "comparison_table", "group_runs", "read_run"]
