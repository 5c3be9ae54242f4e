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


def test_host_device_setting():
    assert requested_count({}) == 1
    assert requested_count({"RNNLAB_HOST_DEVICES": "2"}) == 2
    for bad in ("0", "two", "-1"):
        with pytest.raises(UsageError, match="RNNLAB_HOST_DEVICES"):
            requested_count({"RNNLAB_HOST_DEVICES": bad})
    assert xla_flags_with(2, f"--a=1 {FLAG}=4") == f"--a=1 {FLAG}=2"
    assert xla_flags_with(1, f"--a=1 {FLAG}=4") == "--a=1"


def test_sweep_workers_get_the_host_device_count(monkeypatch):
    from rnnlab.training.sweep.point import _worker_env

    monkeypatch.setenv("RNNLAB_HOST_DEVICES", "2")
    monkeypatch.setenv("XLA_FLAGS", f"--keep=1 {FLAG}=3")
    assert _worker_env()["XLA_FLAGS"] == f"--keep=1 {FLAG}=2"
    monkeypatch.setenv("RNNLAB_HOST_DEVICES", "1")
    assert _worker_env()["XLA_FLAGS"] == "--keep=1"
    # Not asked for: the user's own flags pass through unchanged.
    monkeypatch.delenv("RNNLAB_HOST_DEVICES")
    assert _worker_env()["XLA_FLAGS"] == f"--keep=1 {FLAG}=3"
