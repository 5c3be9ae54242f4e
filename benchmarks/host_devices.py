"""Both cores: the batch (or the seeds) split over two host devices, against one device.

Runs in a fresh process started with ``RNNLAB_HOST_DEVICES=2`` (XLA fixes its device count
when JAX starts), so every ratio's two sides are measured in one process:

- ReLU step (``relu-rnn`` on ``addition``, N=128, T=784, batch 16, SGD, float32) with the
  batch split over the two devices (a sharded input, as the training loop's sharding
  constraint does) and unsplit (all on device 0), each against the GEMM of equal FLOPs
  (:func:`benchmarks.relu_step.gemm_timing`, XLA's Eigen pool on both cores) and against
  PyTorch's ``nn.RNN`` step on both cores (:func:`benchmarks.relu_step.torch_step_timing`);
- 8 seeds (:mod:`benchmarks.seeds_vmap`'s model, N=64, T=100, 20-step chunks) vmapped and
  placed 4 per device, vmapped on one device, and run one after the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks import Row

K = 8


def measure_here(quick: bool) -> dict:
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    from benchmarks import block, time_stateful
    from benchmarks.relu_step import gemm_timing, step_flops, torch_step_timing
    from rnnlab.training import loop, sharding
    from rnnlab.training.config import TrainConfig

    mesh = sharding.host_mesh()
    assert mesh is not None and mesh.size == 2, jax.devices()
    n, T, batch = 128, (100 if quick else 784), 16
    repeats = 3 if quick else 9
    exp = loop.build(TrainConfig(task="addition", model="relu-rnn", n=n, T=T, batch=batch, optimiser="sgd", lr=1e-3))
    step = loop.make_train_step(exp.cell, exp.task, exp.tx, exp.labels)
    x, y = exp.task.sample(jax.random.key(1), batch)
    one = jax.devices()[0]

    def timed(split: bool):
        state = loop.init_state(exp, jax.random.key(0))
        if split:
            xs = jax.device_put(x, NamedSharding(mesh, PartitionSpec(None, sharding.AXIS)))
            ys = jax.device_put(y, NamedSharding(mesh, PartitionSpec(sharding.AXIS)))
            state = jax.device_put(state, NamedSharding(mesh, PartitionSpec()))
        else:
            xs, ys, state = jax.device_put((x, y, state), one)
        timing, _ = time_stateful(lambda s: step(s, xs, ys)[0], state, repeats)
        return timing

    unsplit, split = timed(False), timed(True)
    gemm, m = gemm_timing(step_flops(n, T, batch), repeats)
    out = {"relu": {"n": n, "T": T, "batch": batch, "unsplit": unsplit.as_record(), "split": split.as_record(),
                    "gemm": gemm.as_record(), "gemm_m": m}}
    try:
        out["relu"]["torch"] = torch_step_timing(n, T, batch, repeats).as_record()
    except ImportError:  # the bench extra (torch) is not installed
        pass

    sn, sT, sl = (32, 50, 5) if quick else (64, 100, 20)
    cfg = TrainConfig(task="addition", model="relu-rnn", n=sn, T=sT, batch=batch, optimiser="sgd", seeds=K)
    exp = loop.build(cfg)
    init_keys, data_keys = loop.seed_keys(cfg)
    chunk = loop.make_train_chunk(exp.cell, exp.task, exp.tx, exp.labels, batch, sl)
    states = jax.device_put(jax.jit(jax.vmap(lambda key: loop.init_state(exp, key)))(init_keys), one)
    data_keys = jax.device_put(data_keys, one)
    singles = block([jax.tree.map(lambda a, k=k: a[k], states) for k in range(K)])
    vmapped = jax.jit(jax.vmap(chunk))
    t_vmap, _ = time_stateful(lambda s: vmapped(s, data_keys)[0], states, repeats)
    placed = sharding.place_seeds(states)
    keys_placed = sharding.place_seeds(data_keys)
    t_split, _ = time_stateful(lambda s: vmapped(s, keys_placed)[0], placed, repeats)
    single = jax.jit(chunk)
    t_seq, _ = time_stateful(lambda ss: [single(s, data_keys[k])[0] for k, s in enumerate(ss)], singles, repeats)
    out["seeds"] = {"k": K, "n": sn, "T": sT, "steps_per_chunk": sl, "vmapped_one_device": t_vmap.as_record(),
                    "vmapped_split": t_split.as_record(), "sequential": t_seq.as_record()}
    out["loadavg_1min"] = os.getloadavg()[0]
    return out


def run(quick: bool) -> list[Row]:
    env = dict(os.environ, RNNLAB_HOST_DEVICES="2")
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()
    args = [sys.executable, "-m", "benchmarks.host_devices"] + (["--quick"] if quick else [])
    proc = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True, env=env)
    d = json.loads(proc.stdout.strip().splitlines()[-1])
    r, s = d["relu"], d["seeds"]
    g = r["gemm"]["median_s"]
    seq = s["sequential"]["median_s"]
    return [
        Row("host-devices", "ReLU step split over 2 devices / GEMM", r["split"]["median_s"] / g, target=2.0,
            detail=r | {"loadavg_1min": d["loadavg_1min"]}),
        Row("host-devices", "ReLU step on 1 device / GEMM (same run)", r["unsplit"]["median_s"] / g, detail={}),
    ] + ([
        Row("host-devices", "torch nn.RNN step / ReLU step split over 2 devices", r["torch"]["median_s"] / r["split"]["median_s"],
            target=4.0, at_least=True, detail={}),
        Row("host-devices", "torch nn.RNN step / ReLU step on 1 device (same run)",
            r["torch"]["median_s"] / r["unsplit"]["median_s"], detail={}),
    ] if "torch" in r else []) + [
        Row("host-devices", f"throughput {K} seeds vmapped, split / sequential", seq / s["vmapped_split"]["median_s"],
            target=2.5, at_least=True, detail=s | {"loadavg_1min": d["loadavg_1min"]}),
        Row("host-devices", f"throughput {K} seeds vmapped, 1 device / sequential (same run)",
            seq / s["vmapped_one_device"]["median_s"], detail={}),
    ]


if __name__ == "__main__":
    print(json.dumps(measure_here("--quick" in sys.argv[1:])))
