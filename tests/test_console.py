"""The console of ``srngan fit``: srngan's progress (the D warm-up's own bar, then G-steps), not
Lightning's tips or third-party deprecation notices; everything else still shows."""

from __future__ import annotations

import logging
import warnings

from srngan.console import quiet_console


def test_quiet_console_hides_exactly_the_listed_messages(caplog):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_console()
        quiet_console()  # idempotent
        warnings.warn(
            "`isinstance(treespec, LeafSpec)` is deprecated, use `isinstance(treespec, TreeSpec)`",
            FutureWarning,
            stacklevel=1,
        )
        warnings.warn("something else is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == [
        "something else is deprecated",
        "`isinstance(treespec, LeafSpec)` is deprecated",
    ]
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("💡 Tip: For seamless cloud uploads and versioning, try installing litmodels")
        logger.info("GPU available: False, used: False")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False, used: False"]


def test_fit_shows_the_warm_up_then_the_g_steps_and_no_tips(tmp_path, tiny_fit, capsys):
    tiny_fit(tmp_path, "--model.d_warmup_steps", "4")
    captured = capsys.readouterr()
    bars = captured.out.replace("\r", "\n")
    # The warm-up has its own bar (its own length, rate and ETA), left complete on screen...
    assert "D warm-up:   0%" in bars and "| 4/4 [" in bars
    # ...and the G-step bar starts after it, from 0 of max_g_steps.
    assert bars.index("D warm-up: 100%") < bars.index("G-steps:   0%") and "| 3/3 [" in bars
    assert "Training:" not in bars  # no Lightning bar of unknown length first
    assert "💡" not in captured.err + captured.out and "LeafSpec" not in captured.err


def test_progress_bar_can_be_turned_off(tmp_path, tiny_fit, capsys):
    # srngan's G-step bar is a default callback; Lightning refuses one with the bar turned off.
    run = tiny_fit(
        tmp_path, "--trainer.enable_progress_bar", "false", "--model.d_warmup_steps", "2"
    )
    bars = capsys.readouterr().out
    assert "G-steps:" not in bars and "D warm-up:" not in bars
    assert (run / "checkpoints" / "last.ckpt").exists()
