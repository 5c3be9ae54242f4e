"""The papers' models at their own sizes: restricted uRNN vs full uRNN, LSTM vs ReLU RNN, and
the restricted uRNN's dense / FFT crossover; in full mode also the step-time table of
``docs/performance.md`` (copy and MNIST sizes). Each ratio's two sides are measured one
after the other in this process.

Train steps are built with ``loop.build`` + ``loop.make_train_step`` (RMSprop, float32);
the copy task with T = 1000 (100 with ``--quick``), batch 20. MNIST-sized rows use the
addition task with T = 784 and one input, which has the recurrence and the sizes of pixel
MNIST without needing the dataset.
"""

from __future__ import annotations

import functools

import jax

from benchmarks import Row, Timing, time_stateful
from rnnlab.training import loop, recurrence, urnn
from rnnlab.training.config import TrainConfig


def train_step(model: str, n: int, T: int, batch: int, repeats: int, task: str = "copy",
               fft_from: int | None = None, mod_relu_autodiff: bool = False,
               dw_block_rows: int | None = None) -> Timing:
    """Median seconds of one jitted RMSprop train step; ``fft_from`` overrides the restricted uRNN's
    crossover, ``mod_relu_autodiff`` differentiates modReLU by autodiff instead of its hand VJP,
    ``dw_block_rows`` sets the rows per block of the restricted uRNN's weight gradient (at any size)."""
    saved = urnn.FFT_FROM, urnn.mod_relu_with, recurrence.DW_BLOCK_ROWS, recurrence.DW_WHOLE_MAX_ENTRIES
    if fft_from is not None:
        urnn.FFT_FROM = fft_from
    if mod_relu_autodiff:
        # The cells take their modReLU from urnn.mod_relu_with(eps) when they run.
        urnn.mod_relu_with = lambda eps=0.0: functools.partial(urnn._mod_relu_value, eps=eps)
    if dw_block_rows is not None:
        recurrence.DW_BLOCK_ROWS, recurrence.DW_WHOLE_MAX_ENTRIES = dw_block_rows, 0
    try:
        exp = loop.build(TrainConfig(task=task, model=model, n=n, T=T, batch=batch, optimiser="rmsprop"))
        state = loop.init_state(exp, jax.random.key(0))
        step = loop.make_train_step(exp.cell, exp.task, exp.tx, exp.labels)
        x, y = exp.task.sample(jax.random.key(1), batch)
        timing, _ = time_stateful(lambda s: step(s, x, y)[0], state, repeats)
    finally:
        urnn.FFT_FROM, urnn.mod_relu_with, recurrence.DW_BLOCK_ROWS, recurrence.DW_WHOLE_MAX_ENTRIES = saved
    return timing


#: The step-time table of docs/performance.md: (model, task, N, T, batch).
PAPER_SIZES = [
    ("full-urnn", "copy", 128, 1000, 20),
    ("lstm", "copy", 68, 1000, 20),
    ("restricted-urnn", "copy", 470, 1000, 20),
    ("np-rnn", "addition", 100, 784, 16),
    ("full-urnn", "addition", 116, 784, 50),
    ("lstm", "addition", 128, 784, 50),
    ("full-urnn", "addition", 512, 784, 50),
    ("restricted-urnn", "addition", 512, 784, 50),
]


def run(quick: bool) -> list[Row]:
    T, batch, repeats = (100 if quick else 1000), 20, (2 if quick else 3)
    rows = []
    full = train_step("full-urnn", 128, T, batch, repeats)
    restricted = {path: train_step("restricted-urnn", 470, T, batch, repeats, fft_from=(1 if path == "fft" else 10**9))
                  for path in ("fft", "dense")}
    best = min(restricted, key=lambda p: restricted[p].median)
    shape = {"T": T, "batch": batch, "task": "copy", "optimiser": "rmsprop"}
    rows.append(Row("paper-steps", f"restricted-urnn N=470 ({best} path) / full-urnn N=128 step",
                    restricted[best].median / full.median, target=1.0,
                    detail=shape | {"full_urnn": full.as_record()}
                    | {f"restricted_{p}": t.as_record() for p, t in restricted.items()}))
    rows.append(Row("paper-steps", "restricted-urnn N=470 dense / FFT path step",
                    restricted["dense"].median / restricted["fft"].median, detail=shape))
    # modReLU's hand-written VJP against autodiff of the same formula, on the FFT path at N = 470.
    autodiff = train_step("restricted-urnn", 470, T, batch, repeats, fft_from=1, mod_relu_autodiff=True)
    rows.append(Row("paper-steps", "restricted-urnn N=470 step, modReLU by autodiff / by its hand VJP",
                    autodiff.median / restricted["fft"].median,
                    detail=shape | {"autodiff": autodiff.as_record(), "hand_vjp": restricted["fft"].as_record()}))
    # The restricted uRNN's weight gradient over all T x batch rows at once against blocks of rows;
    # both sides forced, since at the quick size the default step takes the rows at once.
    whole = train_step("restricted-urnn", 470, T, batch, repeats, fft_from=1, dw_block_rows=T * batch)
    blocks = train_step("restricted-urnn", 470, T, batch, repeats, fft_from=1,
                        dw_block_rows=recurrence.DW_BLOCK_ROWS)
    rows.append(Row("paper-steps", "restricted-urnn N=470 step, weight gradient over all rows at once / in blocks",
                    whole.median / blocks.median,
                    detail=shape | {"all_rows": whole.as_record(), "blocks": blocks.as_record(),
                                    "block_rows": recurrence.DW_BLOCK_ROWS}))
    # Same matmul FLOPs per time step: the LSTM's (68 x 272) gate matmul against a 136 x 136 one.
    lstm = train_step("lstm", 68, T, batch, repeats)
    relu = train_step("relu-rnn", 136, T, batch, repeats)
    rows.append(Row("paper-steps", "lstm N=68 / relu-rnn N=136 step (equal matmul FLOPs)",
                    lstm.median / relu.median, target=1.3,
                    detail=shape | {"lstm": lstm.as_record(), "relu_rnn": relu.as_record()}))
    # The crossover at T = 200 (the ratio does not depend on T, the cost does).
    for n in ((64, 256) if quick else (64, 128, 256, 512, 1024)):
        t = {path: train_step("restricted-urnn", n, min(T, 200), batch, repeats,
                              fft_from=(1 if path == "fft" else 10**9))
             for path in ("fft", "dense")}
        rows.append(Row("paper-steps", f"restricted-urnn N={n} dense / FFT path step",
                        t["dense"].median / t["fft"].median,
                        detail=shape | {"n": n, "T": min(T, 200)} | {p: v.as_record() for p, v in t.items()}))
    if not quick:
        for model, task, n, T_, b in PAPER_SIZES:
            t = train_step(model, n, T_, b, 2, task=task)
            rows.append(Row("paper-steps", f"{model} {task} N={n} T={T_} batch {b} step", t.median, unit="s",
                            detail={"model": model, "task": task, "n": n, "T": T_, "batch": b} | t.as_record()))
    return rows
