"""Figure functions return a Figure and leave global state alone (no backend choice), and
integers on log axes are written as integers."""

import matplotlib
import matplotlib.figure
import numpy as np
import pytest

from rnnlab.capacity.plots import plot_fit, plot_rank
from rnnlab.dynamics.portrait import portrait_figure
from rnnlab.dynamics.propagation import Propagation, propagation_figure
from rnnlab.dynamics.relu_map import two_unit


@pytest.fixture
def no_backend_switch(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("library code called matplotlib.use")

    monkeypatch.setattr(matplotlib, "use", refuse)


def _propagation(steps):
    k, n = len(steps), 3
    s = -np.outer(np.ones(1), np.arange(k))[..., None] * np.ones(n)
    return Propagation(init="np", n=n, T=int(steps[-1]), trials=1, steps=np.asarray(steps),
                       log10_norm=s[..., 0], log10_singular_values=s, lyapunov=np.zeros((1, 2)),
                       log10_sensitivity=s[..., 0], sensitivity_fd=np.ones((1, k)),
                       active_fraction=np.ones(1), state_norm=np.ones(1))


def test_figures_touch_no_global_state(no_backend_switch):
    records = [dict(parameterization="full", n=n, rank=n * n, params=n * n, manifold_dim=n * n, full_capacity=True,
                    best_residual=1e-12) for n in (2, 3, 4)]
    figures = [plot_rank(records), plot_fit(records), portrait_figure([("line", two_unit(1.0, 0.5, 30))]),
               propagation_figure([_propagation([1, 2, 5, 10, 20, 50, 100])])]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figures)


@pytest.mark.parametrize("steps, labels", [
    ([1, 2, 3, 5, 10, 30, 100, 300, 1000], ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"]),
    ([2, 3, 4, 5, 6], ["2", "3", "4", "5", "6"]),  # under three 1-2-5 ticks in range: the values
])
def test_log_axis_over_integers_has_integer_labels(steps, labels):
    fig = propagation_figure([_propagation(steps)])
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    shown = [t.get_text() for t in ax.get_xticklabels()]
    assert shown == labels
