"""Full-capacity uRNN paper, speech next-frame prediction table (configs/full-urnn-speech.toml).

Rows: one per model and N: the parameter count, validation and test MSE of the predicted
log-magnitudes (whole utterances, frame-weighted), and on test the oracle-phase SegSNR (dB),
STOI and narrow-band PESQ (the last two only when pystoi / pesq are installed), plus two
reference rows computed without a model: "previous frame" (predict frame t + 1 = frame t)
and "train mean frame" (the input-blind baseline). Data: the espeak-ng corpus standing in
for TIMIT (docs/datasets.md), so numbers do not compare with the paper's.
Full mode: the paper's 9 models (LSTM N=84/120/156, restricted uRNN N=128/192/256, full
uRNN N=128/192/256), 20000 steps of batch 32 on whole utterances. On the shared 2-core CPU
the smallest budget took 0.05 s a step (LSTM N=84, 18 min) and 0.09 s (both uRNNs at
N=128, 30 min), one run a core.
Quick mode: three ~17k-parameter models, 300 steps of 50-frame crops, a few minutes.
"""

from __future__ import annotations

import sys

from paper_figures._common import CONFIGS, run_sweep, save_figure, save_rows, sweep_parser

NAME = "speech_table"
CONFIG = CONFIGS / "full-urnn-speech.toml"
METRICS = ("val_mse", "test_mse", "test_segsnr", "test_stoi", "test_pesq")


def reference_rows() -> list[dict]:
    """Model-free reference points on the espeak test split: the previous frame again, and
    the training-set mean frame (the task's input-blind baseline)."""
    import numpy as np

    from rnnlab.training.datasets import evaluate_prediction, load_speech

    mean = np.concatenate([u.frames for u in load_speech("espeak", "train", progress=False)]).mean(axis=0)
    test = load_speech("espeak", "test", progress=False)
    rows = []
    for name, guess in (("previous frame (no model)", lambda u: u.frames[:-1]),
                        ("train mean frame (no model)", lambda u: np.broadcast_to(mean, u.frames[1:].shape))):
        sq, frames, snr = 0.0, 0, []
        for u in test:
            m = evaluate_prediction(u, guess(u))
            sq += m["mse"] * (len(u.frames) - 1)
            frames += len(u.frames) - 1
            snr.append(m["segsnr"])
        rows.append(dict(model=name, n=None, params=0, test_mse=sq / frames, test_segsnr=float(np.mean(snr))))
    return rows


def _corpus_here() -> bool:
    """Whether the espeak corpus's train and test splits are already generated (cached)."""
    from rnnlab.training.datasets.espeak import split_dir

    return all((split_dir(split) / "manifest.json").is_file() for split in ("train", "test"))


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    from rnnlab.training import sweep
    from rnnlab.training.datasets import load_speech

    spec = sweep.load(CONFIG)
    espeak = spec.base.get("data") is None
    if espeak and args.records is None:
        # Synthesise the espeak corpus once here (if not cached) rather than in racing runs.
        for split in ("train", "val", "test"):
            load_speech("espeak", split)
    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    rows = []
    for r in results:
        if r.get("final_test_mse") is None:
            continue
        row = dict(model=r["model"], n=r["n"], params=r["num_params"], T=r["T"], steps=r["steps"],
                   seed=r["final_seed"], wall_time_s=r["wall_time"])
        row.update({k: r.get(f"final_{k}") for k in METRICS if r.get(f"final_{k}") is not None})
        rows.append(row)
    references = "computed from this machine's espeak corpus"
    if espeak and (args.records is None or _corpus_here()):
        rows += reference_rows()
    elif espeak:
        # Redrawing a record needs no corpus (nor espeak-ng): the model-free rows need one.
        references = "omitted: the espeak corpus is not generated here (make speech-data)"
        print(f"{NAME}: reference rows {references}", file=sys.stderr)
    save_rows(args.out, NAME, rows, {**meta, "data": spec.base.get("data") or "espeak", "reference_rows": references})

    import matplotlib.pyplot as plt

    def fmt(row, key, spec):
        value = row.get(key)
        return "-" if value is None else format(value, spec)

    fig, ax = plt.subplots(figsize=(8.5, 0.3 * len(rows) + 0.6))
    ax.axis("off")
    cells = [[row["model"] + (f" N={row['n']}" if row.get("n") else ""), f"{row['params']:,}" if row["params"] else "-",
              fmt(row, "val_mse", ".3f"), fmt(row, "test_mse", ".3f"),
              fmt(row, "test_segsnr", ".2f"), fmt(row, "test_stoi", ".3f"), fmt(row, "test_pesq", ".2f")]
             for row in rows]
    table = ax.table(cellText=cells, colLabels=["model", "params", "val MSE", "test MSE", "SegSNR dB", "STOI",
                                                "PESQ"], loc="center",
                     colWidths=[0.3, 0.1, 0.1, 0.1, 0.12, 0.09, 0.09])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    ax.set_title("speech next-frame prediction, espeak corpus "
                 f"({'quick: ~17k params, 300 steps' if args.quick else 'full'})", fontsize=9)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
