"""rnnlab sweep --backend ray: the local backend's results on a loopback Ray cluster, a crash
retried then failed, Ctrl-C keeping finished points; the one-line errors without Ray."""

import csv
import json
import os
import signal
import socket
import sys
import threading
import time

import pytest

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.training import sweep, sweep_ray

try:
    import ray
except ImportError:
    ray = None

needs_ray = pytest.mark.skipif(ray is None, reason="the ray extra is not installed (pip install 'rnnlab[ray]'; "
                               "make test installs it)")

SWEEP = """
task = "addition"
n = 3
T = 4
steps = 5
batch = 4
log_every = 5
eval_every = 5
eval_batch = 8
seeds = 2
[grid]
model = ["irnn", "np-rnn"]
"""


@pytest.fixture(scope="module")
def ray_cluster():
    # Loopback only, two CPUs, no dashboard; the sweeps below find it initialised and use it.
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def _train_processes(folder):
    """Pids of live processes whose command line names ``folder`` (Linux /proc)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if str(folder) in cmd.split("\0"):
            pids.append(int(pid))
    return pids


def _rows(out):
    return list(csv.DictReader(open(out / "results.csv")))


# Slow (about a minute: six `rnnlab train` processes); `make test-slow` runs it and CI runs both.
@pytest.mark.slow
@needs_ray
def test_ray_gives_the_local_results_and_fails_a_crashing_point_after_one_retry(ray_cluster, tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    rows = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        # A stray file in np-rnn's run folder makes `rnnlab train` refuse it on every try.
        (out / "model-np-rnn").mkdir(parents=True)
        (out / "model-np-rnn" / "stray.txt").write_text("not a run")
        assert main(["sweep", str(spec), "--out", str(out), "--backend", backend, "--no-progress"]) == 1
        captured = capsys.readouterr()
        assert "model-np-rnn: exit 2: rnnlab train: error:" in captured.out and "retrying" in captured.out
        assert "1 point(s) failed: model-np-rnn" in captured.err
        assert json.loads((out / "model-np-rnn.status.json").read_text())["attempts"] == 2
        rows[backend] = _rows(out)
    local, remote = rows["local"], rows["ray"]
    assert [r["status"] for r in remote] == ["complete", "complete", "failed", "failed"]
    assert list(local[0]) == list(remote[0]) and len(local) == len(remote)
    for a, b in zip(local, remote):
        for key in a:
            if key.startswith("final_") and a[key]:
                assert float(b[key]) == pytest.approx(float(a[key]), rel=1e-6, abs=1e-12), key
            elif key == "detail":
                assert b[key].replace(str(tmp_path / "ray"), "OUT") == a[key].replace(str(tmp_path / "local"), "OUT")
            elif key != "wall_time":
                assert a[key] == b[key], key
    assert float(remote[0]["final_test_mse"]) > 0


# Slow: it waits for a real short run while a long one trains beside it (about a minute on 2
# idle cores, several under load); `make test-slow` runs it, in one process: it signals its own
# process, which under pytest-xdist would be a worker.
@pytest.mark.slow
@pytest.mark.parametrize("backend, sig", [("local", signal.SIGINT), pytest.param("ray", signal.SIGINT, marks=needs_ray),
                                          ("local", signal.SIGTERM)], ids=["local", "ray", "local-sigterm"])
def test_ctrl_c_keeps_finished_points_and_a_rerun_skips_them(backend, sig, request, tmp_path, capsys):
    # Both points run at once (two local jobs, or two Ray CPUs); Ctrl-C (or SIGTERM, as from
    # `kill` or a batch scheduler's time limit) comes once the short one is done.
    run = ["--backend", backend, "--no-progress"] + (["--jobs", "2"] if backend == "local" else [])
    if backend == "ray":
        request.getfixturevalue("ray_cluster")
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP.replace("steps = 5\n", "").replace('model = ["irnn", "np-rnn"]', "steps = [5, 10000000]"))
    out = tmp_path / "out"

    short_done = []

    def interrupt_when_the_short_point_is_done():
        deadline = time.monotonic() + 1200  # generous: a loaded machine starts JAX processes slowly
        while not (out / "steps-5" / "summary.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        short_done.append((out / "steps-5" / "summary.json").exists())
        os.kill(os.getpid(), sig)

    watcher = threading.Thread(target=interrupt_when_the_short_point_is_done, daemon=True)
    watcher.start()
    assert main(["sweep", str(spec), "--out", str(out), *run]) == 130
    watcher.join()
    assert short_done == [True], "the 5-step point did not finish within 20 minutes"
    assert "rnnlab sweep: interrupted" in capsys.readouterr().err
    status = {r["point"]: r["status"] for r in _rows(out)}
    assert status["steps-5"] == "complete" and status["steps-10000000"].startswith("incomplete")
    # The long point's train process was stopped (not left running on the worker), its folder kept.
    assert _train_processes(out / "steps-10000000") == [] and (out / "steps-10000000" / "checkpoint.npz").exists()
    assert main(["sweep", str(spec), "--out", str(out), *run, "--where", "steps=5"]) == 0
    assert "steps-5: skipped (complete)" in capsys.readouterr().out


def test_ray_backend_without_ray_is_one_line_saying_how_to_install(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--backend", "ray"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'rnnlab[ray]'" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_ray_options_need_the_ray_backend(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    for extra in (["--address", "auto"], ["--cpus-per-run", "2"]):
        assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), *extra]) == 2
        assert "need --backend ray" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--backend", "ray", "--cpus-per-run", "0"]) == 2
    assert "--cpus-per-run must be >= 1" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--backend", "ray", "--jobs", "4"]) == 2
    assert "--jobs is the local backend's" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@needs_ray
def test_an_address_where_no_ray_listens_is_one_line_before_any_work(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    with socket.socket() as free:  # a port nothing listens on: bound, never listening
        free.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{free.getsockname()[1]}"
        assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--backend", "ray", "--address", address]) == 2
    err = capsys.readouterr().err
    assert f"no Ray cluster answers at {address}" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--backend", "ray", "--address", "nohost"]) == 2
    assert "--address must be HOST:PORT" in capsys.readouterr().err


def test_a_worker_that_cannot_see_the_sweep_folder_refuses_to_train(tmp_path):
    # Run folders live on a shared filesystem: a node that does not see the driver's
    # OUT/sweep.json (with this sweep's id) fails the point instead of training elsewhere.
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    point = sweep.points(sweep.load(spec))[0]
    with pytest.raises(UsageError, match="every node mounts at the same path"):
        sweep_ray.run_on_worker(point, str(tmp_path / "not-mounted"), "0123")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "sweep.json").write_text(json.dumps({"id": "another sweep"}))
    with pytest.raises(UsageError, match="not this sweep's folder"):
        sweep_ray.run_on_worker(point, str(tmp_path / "other"), "0123")
    assert not (tmp_path / "other" / point.name).exists()


def test_a_ray_cluster_that_does_not_answer_leaves_no_folder(tmp_path, capsys, monkeypatch):
    # Checked first, written after: joining the cluster fails before sweep.json or a row of
    # "incomplete" points is written. A stand-in for Ray whose init fails as Ray's does
    # when `--address auto` finds no cluster.
    import types

    def init(**kwargs):
        raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to.")

    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False, init=init))
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "o"
    assert main(["sweep", str(spec), "--out", str(out), "--backend", "ray", "--address", "auto", "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "cannot start or join Ray at auto: Could not find any running Ray instance" in captured.err
    assert captured.err.count("\n") == 1 and not out.exists()
