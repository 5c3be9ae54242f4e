"""Our figure: Jacobian rank of every unitary parameterization vs N, against N^2 and P."""

from __future__ import annotations

from rnnlab.capacity import get, measure, names
from paper_figures._common import parser, save_figure, save_rows


def main(argv=None) -> int:
    args = parser("capacity_rank", __doc__).parse_args(argv)
    sizes = list(range(2, 9)) if args.quick else list(range(2, 17))
    rows = []
    for name in names():
        for n in sizes:
            rows.append(measure(get(name)(n), seeds=(0,) if args.quick else (0, 1, 2), explain=False).as_record())
    save_rows(args.out, "capacity_rank", rows, {"sizes": sizes, "quick": args.quick})
    from rnnlab.capacity.plots import plot_rank

    save_figure(plot_rank(rows), args.out, "capacity_rank")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
