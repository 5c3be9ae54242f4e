"""The capacity command refuses before computing, saves before drawing, and is right at N = 1."""

import io
import json

import matplotlib.figure
import pytest

from rnnlab.capacity import get, measure, names
from rnnlab.cli import main
from tests.cli.one_line import one_line_exit_2
from tests.capacity.test_fit_and_cli import table_rows


@pytest.mark.parametrize("name", names())
def test_every_parameterization_at_n1_reaches_its_manifold_dimension(name):
    # U(1) is the circle (dimension 1): no map into it can have rank above 1. O(1) = {+1, -1}
    # is two points (dimension 0): an orthogonal map at N = 1 is constant. Seed 2 draws a
    # short reflection vector, whose rounding noise once lifted householder to rank 2.
    p = get(name)(1)
    dim = {"U": 1, "O": 0}[p.manifold]
    report = measure(p, seeds=(0, 1, 2), explain=False)
    assert report.manifold_dim == dim
    assert report.ranks == [dim, dim, dim]
    assert report.full_capacity


@pytest.mark.parametrize("name", names())
def test_num_params_without_building(name):
    for n in (1, 2, 5):
        assert get(name).num_params(n) == get(name)(n).num_params


def test_huge_full_is_refused_before_its_base_point_is_drawn(capsys, monkeypatch):
    import scipy.stats

    def no_draw(*a, **k):
        raise AssertionError("W0 drawn before the memory check")

    monkeypatch.setattr(scipy.stats.unitary_group, "rvs", no_draw)
    err = one_line_exit_2(capsys, ["capacity", "--n", "100000", "--param", "full"], "needs about")
    assert "TiB" in err


def test_huge_fit_is_refused_with_its_estimate(capsys):
    one_line_exit_2(capsys, ["capacity", "fit", "--n", "100000", "--param", "restricted"], "needs about")


@pytest.mark.parametrize("action", [[], ["fit"]])
def test_unwritable_plot_is_refused_before_computing(capsys, tmp_path, action):
    afile = tmp_path / "afile"
    afile.write_text("")
    one_line_exit_2(capsys, ["capacity", *action, "--n", "2", "--plot", str(afile / "x.png")], "not a folder")
    one_line_exit_2(capsys, ["capacity", *action, "--n", "2", "--plot", "/proc/x.png"], "/proc")


def test_a_failed_picture_keeps_the_table_and_the_data(capsys, tmp_path, monkeypatch):
    def disk_full(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", disk_full)
    plot = tmp_path / "rank.png"
    assert main(["capacity", "--n", "2", "--param", "full", "--seeds", "1", "--plot", str(plot)]) == 2
    captured = capsys.readouterr()
    (row,) = table_rows(captured.out)  # the table was printed
    assert (row["parameterization"], row["N"], row["rank"], row["dim"]) == ("full", "2", "4", "4")
    assert captured.err.count("\n") == 1 and "No space left" in captured.err
    assert str(plot.with_suffix(".json")) in captured.err
    (rec,) = json.loads(plot.with_suffix(".json").read_text())["records"]
    assert rec["rank"] == 4 and rec["n"] == 2


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bar_on_a_terminal_unless_quiet(monkeypatch, capsys, quiet):
    err = _Terminal()
    monkeypatch.setattr("sys.stderr", err)
    argv = ["capacity", "--n", "2", "--param", "full", "--seeds", "1"] + (["--quiet"] if quiet else [])
    assert main(argv) == 0
    assert ("capacity rank" in err.getvalue()) is not quiet
    assert "capacity rank" not in capsys.readouterr().out


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    assert main(["capacity", "--n", "2", "--param", "full", "--seeds", "1"]) == 0
    assert capsys.readouterr().err == ""


def test_single_size_plot_is_one_bar_chart_and_ticks_are_integers():
    from rnnlab.capacity.plots import plot_fit, plot_rank

    rec = lambda name, n, rank, p: dict(parameterization=name, n=n, rank=rank, params=p,  # noqa: E731
                                        manifold_dim=n * n, full_capacity=rank == n * n, best_residual=1e-3)
    fig = plot_rank([rec("restricted", 8, 49, 56), rec("full", 8, 64, 64)])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["restricted", "full"]
    heights = sorted(round(b.get_height()) for b in ax.patches)
    assert heights == [49, 56, 64, 64, 64, 64]
    fig = plot_fit([rec("full", n, n * n, n * n) for n in (2, 3, 4, 6, 8)])
    fig.canvas.draw()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2", "3", "4", "6", "8"]
