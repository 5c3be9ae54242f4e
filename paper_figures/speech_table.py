"""Full-capacity uRNN paper, speech next-frame prediction table (configs/full-urnn-speech.toml).

Rows: one per model and N: the parameter count, validation and test MSE of the predicted
log-magnitudes (whole utterances, frame-weighted), and on test the oracle-phase SegSNR (dB),
STOI and narrow-band PESQ (the last two only when pystoi / pesq are installed), plus two
reference rows computed without a model: "previous frame" (predict frame t + 1 = frame t)
and "train mean frame" (the input-blind baseline), scored on the same test split with the
same metrics and the same averaging as the models' rows. Data: the espeak-ng corpus standing
in for TIMIT (docs/datasets.md), so numbers do not compare with the paper's.
The reference rows are data too: ``--record-references DIR`` computes them (all four metrics:
needs the espeak corpus, ``make speech-data``, and pystoi / pesq, ``make speech-metrics``;
about a minute) and writes ``DIR/reference_rows.json`` with how they were made (espeak-ng
version, corpus digests, package versions); ``--from DIR`` draws them from that file when the
record has one (``results/speech_table`` does), else computes them where the corpus is
generated, else leaves them out. ``rnnlab records ... --to results/speech_table`` rewrites
the record folder as a whole, so rerun ``--record-references`` after it.
Full mode: the paper's 9 models (LSTM N=84/120/156, restricted uRNN N=128/192/256, full
uRNN N=128/192/256), 20000 steps of batch 32 on whole utterances. On the shared 2-core CPU
the smallest budget took 0.05 s a step (LSTM N=84, 18 min) and 0.09 s (both uRNNs at
N=128, 30 min), one run a core.
Quick mode: three ~17k-parameter models, 300 steps of 50-frame crops, a few minutes.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
import time
from pathlib import Path

from paper_figures._common import CONFIGS, run_sweep, save_figure, save_rows, sweep_parser

NAME = "speech_table"
CONFIG = CONFIGS / "full-urnn-speech.toml"
METRICS = ("val_mse", "test_mse", "test_segsnr", "test_stoi", "test_pesq")
#: The model-free rows' record, beside a record's results.csv.
REFERENCES = "reference_rows.json"
#: How the rows of :func:`reference_rows` average over the test split: as the speech task's
#: ``split_eval`` averages a model's predictions (rnnlab/training/tasks/speech.py).
AVERAGING = ("test_mse: frame-weighted mean over the test split of the per-frame log-magnitude MSE (the "
             "training loss); test_segsnr, test_stoi: means over the test utterances; test_pesq: mean over "
             "the utterances where narrow-band PESQ is defined (pesq_undefined counts the others); each "
             "utterance resynthesised with its own phase (oracle phase), frame 0 copied, as for a model")


def _perceptual_metrics_here() -> bool:
    """Whether STOI and PESQ can be computed here (the optional pystoi and pesq import)."""
    return all(importlib.util.find_spec(m) is not None for m in ("pystoi", "pesq"))


def reference_rows(source: str = "espeak", *, extra_metrics: bool = False) -> list[dict]:
    """Model-free reference points on ``source``'s test split: the previous frame again, and
    the training-set mean frame (the task's input-blind baseline), scored as a model's
    predictions are (:data:`AVERAGING`); with ``extra_metrics`` also STOI and PESQ."""
    import numpy as np

    from rnnlab.training.datasets import evaluate_prediction, load_speech

    mean = np.concatenate([u.frames for u in load_speech(source, "train", progress=False)]).mean(axis=0)
    test = load_speech(source, "test", progress=False)
    rows = []
    for name, guess in (("previous frame (no model)", lambda u: u.frames[:-1]),
                        ("train mean frame (no model)", lambda u: np.broadcast_to(mean, u.frames[1:].shape))):
        sq, frames, per_utt = 0.0, 0, {}
        for u in test:
            m = evaluate_prediction(u, guess(u), extra_metrics=extra_metrics)
            sq += m.pop("mse") * (len(u.frames) - 1)
            frames += len(u.frames) - 1
            for key, value in m.items():
                per_utt.setdefault(key, []).append(value)
        row = dict(model=name, n=None, params=0, test_mse=sq / frames)
        for key, values in per_utt.items():
            row[f"test_{key}"] = float(np.nanmean(values) if key == "pesq" else np.mean(values))
        if "pesq" in per_utt:
            row["pesq_undefined"] = int(np.isnan(per_utt["pesq"]).sum())
        rows.append(row)
    return rows


def record_references(dest: Path) -> Path:
    """Compute the reference rows on the espeak corpus with all four metrics and write them,
    with how they were made, to ``dest/reference_rows.json``."""
    from importlib.metadata import version

    from rnnlab.files import atomic_write
    from rnnlab.training.datasets import espeak_manifest

    if not _perceptual_metrics_here():
        raise SystemExit(f"python -m paper_figures.{NAME}: error: --record-references needs STOI and PESQ: "
                         "make speech-metrics (pip install pystoi pesq)")
    if not _corpus_here():
        raise SystemExit(f"python -m paper_figures.{NAME}: error: --record-references needs the espeak corpus: "
                         "make speech-data")
    manifests = {split: espeak_manifest(split) for split in ("train", "test")}
    record = {
        "what": "model-free reference rows of the speech table, on the espeak corpus's test split",
        "made_by": f"python -m paper_figures.{NAME} --record-references {dest}",
        "averaging": AVERAGING,
        "corpus": {"source": "espeak", "espeak_ng": manifests["test"]["espeak_ng"],
                   "digests": {split: m["digest"] for split, m in manifests.items()}},
        "packages": {name: version(name) for name in ("numpy", "scipy", "pystoi", "pesq")},
        "host": platform.node(),
        "machine": platform.machine(),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": reference_rows("espeak", extra_metrics=True),
    }
    return atomic_write(Path(dest) / REFERENCES, json.dumps(record, indent=1) + "\n")


def _corpus_here() -> bool:
    """Whether the espeak corpus's train and test splits are already generated (cached)."""
    from rnnlab.training.datasets.espeak import split_dir

    return all((split_dir(split) / "manifest.json").is_file() for split in ("train", "test"))


def main(argv=None) -> int:
    p = sweep_parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--record-references", type=Path, metavar="DIR",
                   help=f"compute the model-free rows (all four metrics) into DIR/{REFERENCES}, then stop")
    args = p.parse_args(argv)
    if args.record_references is not None:
        print(record_references(args.record_references))
        return 0
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
    if args.records is not None and (args.records / REFERENCES).is_file():
        recorded = json.loads((args.records / REFERENCES).read_text())
        rows += recorded["rows"]
        references = f"read from {args.records / REFERENCES} (written {recorded['written']})"
    elif espeak and (args.records is None or _corpus_here()):
        extra = _perceptual_metrics_here()
        rows += reference_rows("espeak", extra_metrics=extra)
        references = "computed from this machine's espeak corpus" + ("" if extra else ", without STOI / PESQ")
    elif espeak:
        # Redrawing a record needs no corpus (nor espeak-ng): the model-free rows need one.
        references = "omitted: the espeak corpus is not generated here (make speech-data)"
        print(f"{NAME}: reference rows {references}", file=sys.stderr)
    else:
        references = "omitted: computed for the espeak corpus only"
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
