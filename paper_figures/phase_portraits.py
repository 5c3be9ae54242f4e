"""The np-RNN paper's four 2-unit cases: phase portraits with their fixed sets.

Rows: one per case and eigenvector angle, with the fixed sets found (dimension, stability,
representative point) and where 200 simulated trajectories ended.
"""

from __future__ import annotations

from paper_figures._common import parser, save_figure, save_rows

NAME = "phase_portraits"


def main(argv=None) -> int:
    args = parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    from rnnlab.dynamics.fixed_points import fixed_points
    from rnnlab.dynamics.portrait import portrait_figure
    from rnnlab.dynamics.relu_map import CASES, DEFAULT_ANGLE, simulate_outcomes, two_unit

    angles = [DEFAULT_ANGLE, 135.0] if args.quick else [0.0, DEFAULT_ANGLE, 60.0, 90.0, 135.0]
    rows = []
    for case, (l1, l2) in CASES.items():
        for angle in angles:
            w = two_unit(l1, l2, angle)
            out = simulate_outcomes(w, steps=200 if args.quick else 2000)
            for fs in fixed_points(w):
                rows.append(dict(case=case, lambda1=l1, lambda2=l2, angle=angle,
                                 dimension=fs.dimension, stability=fs.stability,
                                 point_h1=fs.point[0], point_h2=fs.point[1],
                                 spectral_radius=fs.spectral_radius, **out.to_dict()))
    save_rows(args.out, NAME, rows, dict(cases=CASES, angles=angles, quick=args.quick))
    panels = [(f"{case}: $\\lambda$ = ({l1:g}, {l2:g})", two_unit(l1, l2, DEFAULT_ANGLE))
              for case, (l1, l2) in CASES.items()]
    save_figure(portrait_figure(panels), args.out, NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
