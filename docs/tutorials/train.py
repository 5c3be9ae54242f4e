# %% [markdown]
# # Train a small model and look inside it
#
# This page trains a small ReLU RNN from Python (400 steps), draws its training curves from
# the run folder, and then asks what the trained network does: where the fixed points of its
# recurrent map are, and what each one means for the task.
#
# The task is the 3-bit flip-flop of Sussillo & Barak (2013), the standard test of
# fixed-point finders: three input lines carry sparse `+1` / `-1` pulses, and each output must
# hold the sign of its line's last pulse. A network that solves it has to store 3 bits, and it
# does so with 8 attracting fixed points, one per memory state. The training API is in
# [`rnnlab.training`](../api/training.md), the options in the [training guide](../training.md).

# %%
# %matplotlib inline
import tempfile
from pathlib import Path

import rnnlab.training as tr

work = tempfile.TemporaryDirectory(prefix="rnnlab-tutorial-")
cfg = tr.TrainConfig(task="flip-flop", model="relu-rnn", n=16, T=24, batch=32, steps=400,
                     optimiser="adam", lr=0.02, clip=1.0, seed=0,
                     out=str(Path(work.name) / "flip-flop-relu"))
cfg

# %% [markdown]
# `TrainConfig` holds every option of a run (each is also a key of a TOML config file and a
# flag of `rnnlab train`); unset optimiser keys take the model's defaults. `tr.train` runs it
# in its run folder (the same folder `rnnlab train` writes: the config, `metrics.jsonl`,
# checkpoints, `summary.json`) and reads the result back. Nothing is printed unless asked
# (`log=print`).

# %%
res = tr.train(cfg)
print("status:", res.status, "(0: finished)")
print("parameters:", {k: tuple(v.shape) for k, v in res.params.items()}, "(a leading seed axis)")
res.final

# %% [markdown]
# `res.final` is the last logged line of each seed: the training loss, and the validation
# metrics of the fixed evaluation batch (`val_*`, logged at every evaluation; `test_*` only at
# the end). The curves, from the run folder, as `rnnlab plot` draws them:

# %%
from rnnlab.training.curves import figure

figure([res.run_dir])

# %% [markdown]
# ## What the trained network does
#
# `tr.analyze` runs the trained network on evaluation sequences and studies its map at each
# constant input that matters to the task (for the flip-flop: zero input, between pulses).
# For a ReLU network the map `h -> relu(W h + b)` is piecewise linear, and its fixed sets are
# found **exactly**, support by support, with
# [`rnnlab.dynamics.fixed_points`](../api/dynamics.md) (the same routine as in the
# [dynamics tutorial](dynamics.md)), among the supports the trajectories visit. Every point
# is verified to within `10 n eps` of the sizes involved, and carries the network's output
# there: what the point means for the task.

# %%
analysis = tr.analyze(res, trajectories=64, starts=512)
for line in analysis.lines():
    print(line)

# %% [markdown]
# The attracting points are the memories. Their outputs, rounded to signs, should be the
# eight patterns of three bits:

# %%
import numpy as np

zero = analysis.seeds[0].inputs[0]
for i in zero.stable_points():
    print(np.round(zero.outputs[i], 2), "->", np.sign(zero.outputs[i]).astype(int))

# %% [markdown]
# The Jacobian's eigenvalues at each point against the unit circle (inside: attracting along
# that direction), and the points among a few evaluation trajectories on the top two
# principal components of the visited states:

# %%
analysis.eigenvalue_figure()

# %%
analysis.state_figure()

# %% [markdown]
# The same from the command line: `rnnlab train --task flip-flop --model relu-rnn ...`, then
# `rnnlab analyze RUN_FOLDER --out DIR` (JSON first, then the two figures). For other cells
# (tanh RNN, LSTM, uRNNs) `analyze` finds slow points by minimising `|F(h) - h|^2 / 2`
# instead of exact fixed sets.

# %%
work.cleanup()
