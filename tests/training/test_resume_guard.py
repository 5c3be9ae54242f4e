"""--resume of a run whose checkpoint is gone is refused: restarting from step 0 would discard
the metrics and summary it holds."""

import json

from rnnlab.cli import main

TINY = ["--task", "addition", "--model", "relu-rnn", "--n", "3", "--T", "2", "--batch", "4",
        "--log-every", "5", "--eval-every", "5", "--checkpoint-every", "5", "--eval-batch", "4",
        "--no-progress"]


def test_resuming_a_finished_run_without_its_checkpoint_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "10", "--out", str(out)]) == 0
    (out / "checkpoint.npz").unlink()
    kept = {name: (out / name).read_bytes() for name in ("metrics.jsonl", "summary.json", "config.toml")}
    capsys.readouterr()
    assert main(["train", *TINY, "--steps", "20", "--out", str(out), "--resume"]) == 2
    output, err = capsys.readouterr()
    assert "starting at step 0" not in output and err.count("\n") == 1
    assert f"{out} holds a run that got to step 10 but its checkpoint.npz is missing" in err
    assert {name: (out / name).read_bytes() for name in kept} == kept and not (out / "checkpoint.npz").exists()
    # Metrics alone (a run killed after its first lines, checkpoint deleted) are refused too.
    (out / "summary.json").unlink()
    assert main(["train", *TINY, "--steps", "20", "--out", str(out), "--resume"]) == 2
    assert "got to step 10" in capsys.readouterr().err
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 10
