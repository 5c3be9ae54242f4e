"""The check every CLI error test makes: exit 2, nothing on stdout, one line on stderr."""

from rnnlab.cli import main


def one_line_exit_2(capsys, argv, fragment):
    """Run ``rnnlab argv``: exit 2, empty stdout, one stderr line holding ``fragment``; returns that line."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and fragment in err, (out, err)
    return err
