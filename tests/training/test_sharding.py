"""Splitting the batch / the seeds over two host devices changes results only by rounding."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from rnnlab.devices import FLAG, requested_count, xla_flags_with
from rnnlab.errors import UsageError

# Run in a fresh interpreter: the device count is fixed when JAX starts.
SCRIPT = textwrap.dedent("""
    import json, sys
    from rnnlab.devices import configure_host_devices
    assert configure_host_devices() == 2
    import jax, numpy as np
    from rnnlab.training import loop, sharding
    from rnnlab.training.seeds import over_seeds
    from rnnlab.training.config import TrainConfig
    assert len(jax.devices()) == 2
    out = {}
    for seeds in (1, 2):
        cfg = TrainConfig(task="addition", model="relu-rnn", n=8, T=6, batch=4, optimiser="sgd", lr=0.1, seeds=seeds)
        exp = loop.build(cfg)
        init_keys, data_keys = loop.seed_keys(cfg)
        states = jax.jit(jax.vmap(lambda key: loop.init_state(exp, key)))(init_keys)
        finals = {}
        for split in (False, True):
            fn = loop.make_train_chunk(exp.cell, exp.task, exp.tx, exp.labels, cfg.batch, 5, split_batch=split and seeds == 1)
            s = sharding.place_seeds(states) if split and seeds > 1 else states
            new, metrics = jax.jit(over_seeds(fn, seeds))(s, data_keys)
            finals[split] = (new.params, metrics["loss"], new.params if not split else
                             [len(x.sharding.device_set) for x in jax.tree.leaves(new.params)])
        a = np.concatenate([np.ravel(x) for x in jax.tree.leaves(finals[False][0])])
        b = np.concatenate([np.ravel(x) for x in jax.tree.leaves(finals[True][0])])
        out[seeds] = {"max_diff": float(np.abs(a - b).max()), "scale": float(np.abs(a).max()),
                      "moved": float(np.abs(a - np.concatenate([np.ravel(x) for x in jax.tree.leaves(states.params)])).max()),
                      "loss_diff": float(np.abs(np.asarray(finals[False][1]) - np.asarray(finals[True][1])).max()),
                      "devices_used": max(finals[True][2])}
    # The command line in this 2-device process: what it splits, as its log says.
    import contextlib, io, tempfile
    from rnnlab.cli import main
    logs = []
    for seeds in ("1", "2"):
        buf = io.StringIO()
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = main(["train", "--task", "addition", "--model", "relu-rnn", "--n", "8", "--T", "5", "--steps", "2",
                       "--batch", "4", "--seeds", seeds, "--out", tmp + "/run", "--quiet", "--host-devices", "2"])
        logs.append((rc, buf.getvalue()))
    out["cli"] = logs
    print(json.dumps(out))
""")


def test_split_over_two_host_devices_matches_one_device():
    env = dict(os.environ, RNNLAB_HOST_DEVICES="2", JAX_PLATFORMS="cpu")
    env["XLA_FLAGS"] = ""
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for seeds in ("1", "2"):
        r = out[seeds]
        # The split really happened, and training moved the parameters...
        assert r["devices_used"] == 2, r
        assert r["moved"] > 1e-3, r
        # ...yet the results agree to float32 rounding of the batch sums (5 steps).
        assert r["max_diff"] <= 64 * 1.2e-7 * max(r["scale"], 1.0), r
        assert r["loss_diff"] <= 64 * 1.2e-7 * 10, r
    # The command line asked for two devices: a tiny batch stays whole (too little work),
    # two seeds are split.
    (rc1, log1), (rc2, log2) = out["cli"]
    assert rc1 == 0 and "batch not split over 2 host devices: too little work per step" in log1, log1[-1000:]
    assert rc2 == 0 and "seeds split over 2 host devices" in log2, log2[-1000:]


def test_host_device_setting(monkeypatch):
    import rnnlab.devices as devices

    assert requested_count({}) == devices.default_count()
    assert requested_count({"RNNLAB_HOST_DEVICES": "2"}) == 2
    for bad in ("0", "two", "-1"):
        with pytest.raises(UsageError, match="RNNLAB_HOST_DEVICES"):
            requested_count({"RNNLAB_HOST_DEVICES": bad})
    assert xla_flags_with(2, f"--a=1 {FLAG}=4") == f"--a=1 {FLAG}=2"
    assert xla_flags_with(1, f"--a=1 {FLAG}=4") == "--a=1"
    # The default: two devices when about two cores are idle, else one.
    for cores, load, want in ((2, 0.2, 2), (2, 0.6, 1), (2, 1.3, 1), (1, 0.0, 1), (16, 3.0, 2)):
        monkeypatch.setattr(devices, "usable_cores", lambda c=cores: c)
        monkeypatch.setattr(devices.os, "getloadavg", lambda l=load: (l, l, l))
        assert devices.default_count() == want, (cores, load)


def test_batch_split_only_where_it_pays():
    from rnnlab.training.sharding import batch_split_pays

    assert batch_split_pays(128, 784, 16)  # the ReLU step of the benchmark: 0.76 of unsplit
    assert batch_split_pays(256, 200, 20)  # full uRNN N=128 (real-form state 256)
    assert not batch_split_pays(128, 100, 16)  # measured 1.45x slower split
    assert not batch_split_pays(16, 10_000, 16)


def test_sweep_workers_get_the_host_device_count(monkeypatch):
    from rnnlab.devices import worker_devices
    from rnnlab.training.sweep.point import _worker_env

    monkeypatch.setenv("XLA_FLAGS", f"--keep=1 {FLAG}=3")
    assert _worker_env(2)["XLA_FLAGS"] == f"--keep=1 {FLAG}=2"
    assert _worker_env(2)["RNNLAB_HOST_DEVICES"] == "2"
    assert _worker_env(1)["XLA_FLAGS"] == "--keep=1"
    # None: the worker decides; the flags pass through unchanged.
    assert _worker_env(None)["XLA_FLAGS"] == f"--keep=1 {FLAG}=3"
    # Not asked for: one process alone decides for itself, several side by side get one device each.
    monkeypatch.delenv("RNNLAB_HOST_DEVICES", raising=False)
    assert worker_devices(1) is None and worker_devices(2) == 1
    monkeypatch.setenv("RNNLAB_HOST_DEVICES", "2")
    assert worker_devices(1) == 2 and worker_devices(3) == 2


def test_host_devices_asked_for_after_jax_started_is_a_usage_error(capsys):
    import jax

    from rnnlab.cli import main

    jax.devices()  # the backend exists now, with however many devices this process has
    have = len(jax.devices("cpu"))
    assert main(["train", "--task", "addition", "--model", "relu-rnn", "--steps", "1",
                 "--host-devices", str(have + 1)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "must be asked for before it starts" in err[0]


def test_only_train_or_an_explicit_request_sets_up_host_devices(monkeypatch, tmp_path):
    # A sweep parent only starts train processes: unless asked, it leaves XLA_FLAGS alone so
    # that each worker decides from the load when it starts.
    import rnnlab.cli as cli

    calls = []
    monkeypatch.setattr(cli, "configure_host_devices", lambda count=None: calls.append(count) or 1)
    monkeypatch.delenv("RNNLAB_HOST_DEVICES", raising=False)
    missing = str(tmp_path / "missing.toml")
    assert cli.main(["sweep", missing]) == 2 and calls == []
    assert cli.main(["sweep", missing, "--host-devices", "1"]) == 2 and calls == [1]
    assert cli.main(["capacity", "--n", "1", "--param", "full", "--seeds", "1"]) == 0 and calls == [1]
    monkeypatch.setenv("RNNLAB_HOST_DEVICES", "1")
    assert cli.main(["sweep", missing]) == 2 and calls == [1, None]
