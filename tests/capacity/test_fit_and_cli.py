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
    assert full.best_residual < 1e-4
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
