import json

import pytest

from rnnlab.capacity import get
from rnnlab.cli.capacity import parse_sizes
from rnnlab.capacity.fit import fit_target
from rnnlab.cli import main
from rnnlab.errors import UsageError


def test_fit_separates_full_from_restricted_capacity():
    full = fit_target(get("full")(6), starts=2, steps=400, seed=0)
    restricted = fit_target(get("restricted")(8), starts=2, steps=400, seed=0)
    assert full.best_residual < 1e-4 and full.target == "U(6)"
    assert restricted.best_residual > 1e-2


def test_parse_sizes():
    assert parse_sizes("8") == [8]
    assert parse_sizes("2:5") == [2, 3, 4, 5]
    assert parse_sizes("2:8:3,10") == [2, 5, 8, 10]
    for bad in ["0", "a", "5:2", "1:2:0", "1:2:3:4"]:
        with pytest.raises(UsageError):
            parse_sizes(bad)


def test_cli_json_contract(capsys):
    assert main(["capacity", "--n", "3", "--param", "restricted", "--seeds", "1", "--json"]) == 0
    out = capsys.readouterr().out
    records = json.loads(out)
    (rec,) = records
    for key in ["parameterization", "n", "params", "rank", "manifold_dim", "full_capacity", "gap", "seeds"]:
        assert key in rec
    assert rec["rank"] == 9 and rec["full_capacity"] is True and rec["seeds"] == [0]


def table_rows(out: str) -> list[dict[str, str]]:
    """The rows of the rank table at the top of ``out``, keyed by the header's column names."""
    lines = out.splitlines()
    head = lines[0].split()
    assert set(lines[1]) <= {"-", " "}
    rows = []
    for line in lines[2:]:
        if len(line.split()) != len(head):
            break
        rows.append(dict(zip(head, line.split())))
    return rows


def test_cli_table_and_plot(tmp_path, capsys):
    plot = tmp_path / "rank.png"
    assert main(["capacity", "--n", "2:3", "--param", "cayley", "--seeds", "1", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert [(r["parameterization"], r["N"], r["rank"], r["dim"], r["full?"]) for r in rows] == [
        ("cayley", "2", "4", "4", "yes"), ("cayley", "3", "9", "9", "yes")]
    assert plot.stat().st_size > 0
    assert json.loads(plot.with_suffix(".json").read_text())["records"][0]["n"] == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["capacity", "--n", "0"],
        ["capacity", "--n", "2:x"],
        ["capacity", "--param", "nope"],
        ["capacity", "--n", "500", "--param", "full"],
        ["capacity", "--seeds", "0"],
        ["capacity", "--plot", "out.txt"],
        ["capacity", "--layers", "0"],
    ],
)
def test_cli_errors_are_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


@pytest.mark.parametrize("name,n,target", [("exprnn", 4, "SO(4)"), ("householder-real", 5, "O(5), det -1")])
def test_real_maps_fit_haar_targets_on_their_component_of_o_n(name, n, target):
    # Complex U(N) targets left these full-rank O(N) maps at residuals 0.76-0.85. Five real
    # reflections have det -1: their target is drawn on that component of O(N).
    fit = fit_target(get(name)(n), starts=2, steps=400, seed=0)
    assert fit.target == target
    assert fit.best_residual < 1e-4


def test_fit_table_and_figure_name_the_manifold_and_tell_15_lines_apart(tmp_path, capsys):
    from rnnlab.capacity.plots import plot_fit

    plot = tmp_path / "fit.png"
    argv = ["capacity", "fit", "--param", "exprnn", "--n", "3", "--seeds", "1", "--starts", "1", "--steps", "300",
            "--plot", str(plot)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.split("\n")[0].split()[4:6] == ["dim", "target"]
    (row,) = [line.split() for line in out.splitlines() if line.startswith("exprnn")]
    assert row[4:6] == ["3", "SO(3)"]  # N(N-1)/2, not N^2
    (rec,) = json.loads(plot.with_suffix(".json").read_text())["records"]
    assert (rec["manifold_dim"], rec["target"]) == (3, "SO(3)") and rec["best_residual"] < 1e-4
    records = [{"parameterization": f"map{k}", "n": n, "best_residual": 0.1} for k in range(15) for n in (2, 3)]
    lines = plot_fit(records).axes[0].lines
    styles = {(line.get_color(), line.get_linestyle(), line.get_marker()) for line in lines}
    assert len(lines) == 15 and len(styles) == 15


def test_rank_figure_draws_each_maps_own_dimension():
    from rnnlab.capacity.plots import plot_rank

    records = [{"parameterization": name, "n": 8, "rank": dim, "params": p, "manifold_dim": dim,
                "full_capacity": True} for name, dim, p in (("exprnn", 28, 28), ("cayley", 64, 64))]
    ax = plot_rank(records).axes[0]
    dims = [bar.get_height() for bar in ax.containers[1]]
    assert dims == [28, 64]


def test_the_restricted_note_says_first_only_when_a_smaller_size_was_full():
    from rnnlab.cli.capacity import _restricted_note

    def record(n, full):
        return {"parameterization": "restricted", "n": n, "params": 7 * n, "rank": min(7 * n - 7, n * n),
                "full_capacity": full}

    (only_8,) = _restricted_note([record(8, False)])
    assert "first falls short" not in only_8 and "falls short at every size measured (8)" in only_8
    (from_5,) = _restricted_note([record(5, True), record(8, False)])
    assert "full up to N = 5 and first falls short at N = 8" in from_5


@pytest.mark.parametrize("action,shown,hidden", [
    ("fit", ["--starts", "--steps", "Haar-random targets on each map's own manifold"], ["--exact", "--certify-up-to"]),
    ("atlas", ["--certify-up-to", "--out", "atlas.json"], ["--starts", "--exact", "--plot"]),
    ("rank", ["--exact", "--plot"], ["--starts", "--certify-up-to"]),
])
def test_each_action_has_its_own_help(action, shown, hidden, capsys):
    with pytest.raises(SystemExit) as done:
        main(["capacity", action, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: rnnlab capacity {action} ")
    assert all(word in out for word in shown) and not any(word in out for word in hidden), out


def test_an_option_of_another_action_is_refused(capsys):
    assert main(["capacity", "fit", "--exact"]) == 2
    assert "--exact applies to rank, not fit" in capsys.readouterr().err
