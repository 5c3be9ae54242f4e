"""The capacity atlas: every parameterization's rank deficit vs N, its rank law, and certificates.

Writes ``capacity_atlas.csv``/``.json`` (one record per family and N, with the config) and
``capacity_atlas_summary.json`` first, then ``capacity_atlas.md`` (the table of docs/capacity.md)
and ``capacity_atlas.png``/``.pdf``. Full mode: N = 2..32, certificates to N = 16.
"""

from __future__ import annotations

import json

from paper_figures._common import parser, save_figure, save_rows


def main(argv=None) -> int:
    args = parser("capacity_atlas", __doc__).parse_args(argv)
    from rnnlab.capacity.atlas import markdown_table, plot_atlas, run_atlas, summary_rows

    sizes = list(range(2, 9)) if args.quick else list(range(2, 33))
    certify_up_to = 8 if args.quick else 16
    records = run_atlas(sizes, seeds=(0,) if args.quick else (0, 1), certify_up_to=certify_up_to)
    flat = [{k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r.items()} for r in records]
    save_rows(args.out, "capacity_atlas", flat, {"sizes": sizes, "quick": args.quick, "certify_up_to": certify_up_to})
    rows = summary_rows(records)
    (args.out / "capacity_atlas_summary.json").write_text(json.dumps(rows, indent=2))
    (args.out / "capacity_atlas.md").write_text(markdown_table(rows) + "\n")
    save_figure(plot_atlas(records), args.out, "capacity_atlas")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
