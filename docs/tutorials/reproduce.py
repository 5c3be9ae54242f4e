# %% [markdown]
# # Reproduce a paper table from the records, then extend it by one run
#
# Full-size training runs take minutes to hours, so the repository keeps their *records*
# under `results/`: for each table or figure, the configs, every seed's final numbers in
# `results.csv`, summaries and thinned training curves (no checkpoints). Every
# `paper_figures` script reads a record as it reads a finished sweep, so a table can be
# redrawn, checked and extended without training it again.
#
# This page redraws the system-identification table of the full-capacity uRNN paper (Wisdom
# et al. 2016: a learner RNN fits the outputs of a fixed target RNN; test MSE against N), then
# adds a row for N = 2 by training that one point and exporting a record of the old table
# plus the new sweep, as `rnnlab records` does. The numbers are discussed in the
# [results](../RESULTS.md); the workflow is in the [training guide](../training.md).

# %%
# %matplotlib inline
import csv
import tempfile
from pathlib import Path

from IPython.display import Image, Markdown

from paper_figures import full_urnn_system_id as script

RECORD = Path("results/full_urnn_system_id")
work = tempfile.TemporaryDirectory(prefix="rnnlab-tutorial-")
out = Path(work.name)
sorted(p.name for p in RECORD.iterdir() if p.is_file())

# %% [markdown]
# ## The table, from the record alone
#
# `python -m paper_figures.full_urnn_system_id --from results/full_urnn_system_id` is the
# script of the figure, reading the record instead of training. Called from Python it writes
# the same files: the table's rows as CSV and JSON (with what they were made from), then the
# figure.

# %%
script.main(["--from", str(RECORD), "--out", str(out / "table")])
sorted(p.name for p in (out / "table").iterdir())

# %% [markdown]
# Each cell is one learner, target and N over the point's four seeds: the test MSE of the
# best seed and the median, as on the results page (which explains why: the seeds are
# bimodal, each fits the target to rounding or stays stuck). Rounded to two digits:

# %%
COLUMNS = [("full-urnn", "full"), ("full-urnn", "restricted"),
           ("restricted-urnn", "full"), ("restricted-urnn", "restricted")]


def two_digits(x: str) -> str:
    x = float(x)
    return f"{x:.2g}" if x >= 0.01 else f"{x:.1e}"


def table(folder: Path) -> Markdown:
    rows = list(csv.DictReader(open(folder / "full_urnn_system_id.csv")))
    cells = {(r["learner"], r["target"], int(r["n"])): r for r in rows}
    lines = ["| N | " + " | ".join(f"{m}, {t} target" for m, t in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 1) + "|"]
    for n in sorted({k[2] for k in cells}):
        entries = []
        for m, t in COLUMNS:
            r = cells.get((m, t, n))
            entries.append("-" if r is None else
                           f"{two_digits(r['test_mse_min'])} / {two_digits(r['test_mse_median'])}")
        lines.append(f"| {n} | " + " | ".join(entries) + " |")
    return Markdown("\n".join(lines))


table(out / "table")

# %%
Image(out / "table" / "full_urnn_system_id.png", width=560)

# %% [markdown]
# These are the numbers of the results page: from N = 8 on the
# full-capacity learner (Cayley step on all of U(N)) fits a full-capacity target far better
# than the restricted learner (7N angles), and the gap grows with N.
#
# ## One more row: N = 2
#
# A record is itself a valid source of a record. To add a row, train only the new point as a
# sweep of one point, with the table's settings (`configs/full-urnn-system-id.toml`) except
# two: N = 2, and 1000 steps instead of 5000, to keep this page quick. Then export a record
# from the old record plus the new sweep: the command line's
# `rnnlab records results/full_urnn_system_id SWEEP --to NEW`.

# %%
sweep_file = out / "system-id-n2.toml"
sweep_file.write_text("""
task = "system-id"
T = 10
steps = 1000
batch = 20
optimiser = "rmsprop"
lr = 1e-2
unitary_lr = 1e-2
seeds = 4
log_every = 50
eval_every = 500
eval_batch = 256
checkpoint_every = 1000
seed = 0

[grid]
model = ["full-urnn"]
target = ["full"]
n = [2]
""")

from rnnlab.training import records, sweep

status = sweep.run(sweep_file, out / "sweep-n2", jobs=1, progress=False)
print("sweep exit status:", status)

# %% [markdown]
# The sweep ran its point in a run folder of its own, as `rnnlab sweep` does (and would resume
# it after an interruption). Now the extended record, and the same script reading it:

# %%
exported = records.export([RECORD, out / "sweep-n2"], out / "extended")
rows = sweep.read_results(out / "extended")
print("points in the extended record:", len({r["point"] for r in rows}))
print("N = 2, test MSE of each seed:", [f"{r['final_test_mse']:.2g}" for r in rows if r["n"] == 2])
script.main(["--from", str(out / "extended"), "--out", str(out / "table-extended")])
table(out / "table-extended")

# %% [markdown]
# The new first row comes from the run just made (its four seeds are printed above); every
# other row is still read from the committed record, unchanged. The committed `results/` is
# left as it was: the extended record went to a temporary folder, which is removed now. To
# extend a record for good, export it in place (`--to results/full_urnn_system_id`) and
# commit it with the config that made the new column.

# %%
work.cleanup()
