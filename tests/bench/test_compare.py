"""`python -m bench.compare`: two checkouts' gateways measured at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import compare
from bench.compare import Run, summary


def test_the_figure_is_the_median_of_the_per_run_ratios() -> None:
    runs = [Run(1.0, 2.0, 500, 250), Run(3.0, 2.0, 300, 450), Run(1.8, 2.0, 400, 380)]

    assert [round(r.ratio, 2) for r in runs] == [0.5, 1.5, 0.9]
    # Not the ratio of the medians (1.8 / 2.0 happens to agree here; see the next runs).
    assert summary(runs) == {"ours_ms": 1.8, "theirs_ms": 2.0, "ratio": 0.9}
    apart = [Run(1.0, 1.1, 0, 0), Run(2.0, 2.4, 0, 0), Run(3.0, 3.0, 0, 0)]
    assert summary(apart)["ratio"] == pytest.approx(1.0 / 1.1)
    assert summary(apart)["ours_ms"] / summary(apart)["theirs_ms"] == pytest.approx(2.0 / 2.4)


def test_no_runs_have_no_figure() -> None:
    with pytest.raises(ValueError, match="no runs"):
        summary([])


def test_a_folder_that_is_not_a_checkout_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        compare.main([str(tmp_path)])

    assert exited.value.code == 2
    assert "is not a checkout of contact-gateway" in capsys.readouterr().err


def test_runs_and_seconds_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    here = Path(compare.__file__).resolve().parent.parent
    with pytest.raises(SystemExit):
        compare.main([str(here), "--runs", "0"])
    assert "must be positive" in capsys.readouterr().err
