"""The closing note of `rnnlab capacity` compares restricted's measured failure point with
the paper's 7N < N^2 bound; it must only speak of waste where the rank falls short."""

from rnnlab.cli import main


def test_no_waste_note_where_restricted_has_full_capacity(capsys):
    # N = 3..5: rank N^2 < P = 7N, so P - rank is surplus, and the note would claim a
    # failure from N = 5 on that does not happen.
    assert main(["capacity", "--n", "3:5", "--param", "restricted", "--seeds", "1"]) == 0
    assert "wastes" not in capsys.readouterr().out


def test_waste_note_counts_the_rank_deficit_at_n6(capsys):
    assert main(["capacity", "--n", "4:6", "--param", "restricted", "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    note = out[out.index("Note: restricted wastes"):]
    assert "wastes 7 of its 7N parameters at N=6" in note
    assert "below N^2 from N = 6 on" in note
    assert "first falls short at N = 6" in note
