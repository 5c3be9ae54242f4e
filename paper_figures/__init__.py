"""One short script per paper figure or table; each is a thin call into :mod:`rnnlab`.

Every script is a module here with ``main(argv=None)`` accepting ``--quick`` (minutes on a
2-core CPU, small sizes, same code path) and ``--out DIR`` (default ``figures/``). It
writes ``NAME.csv`` and ``NAME.json`` (the rows and the config that produced them) before
``NAME.png`` and ``NAME.pdf``. ``python -m paper_figures --quick`` runs them all.
"""
