"""The command line answers at once: help, version, listings and usage errors load neither JAX
nor matplotlib nor scipy (each takes seconds to import); only the command that computes does.
(A name looked up in a registry of maps, models or tasks loads its module, and JAX with it.)
Checked on sys.modules in a fresh interpreter, not by timing (the speed is benchmarks/cli_start.py)."""

import json
import subprocess
import sys

from rnnlab.cli import COMMAND_MODULES, build_parser

HEAVY = ("jax", "matplotlib", "scipy")

SCRIPT = r'''
import contextlib, io, json, sys
from rnnlab.cli import main
codes = {}
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            codes[" ".join(argv)] = main(argv)
        except SystemExit as exc:
            codes[" ".join(argv)] = exc.code
print(json.dumps({"codes": codes, "loaded": [m for m in %r if m in sys.modules]}))
''' % (HEAVY,)


def _run(argvs):
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(argvs)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_importing_the_command_line_loads_no_heavy_module():
    # Not even numpy: the parser reads the ReLU map's case names only when --case needs them.
    heavy = (*HEAVY, "numpy")
    code = f"import sys, rnnlab.cli; rnnlab.cli.build_parser(); print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_help_version_listings_and_usage_errors_load_no_heavy_module(tmp_path):
    commands = sorted(build_parser()._subparsers._group_actions[0].choices)
    assert len(commands) > len(COMMAND_MODULES)  # every command, not an empty list
    argvs = [["--help"], ["--version"], ["configs"], *([name, "--help"] for name in commands),
             ["train", "--n", "x"], ["train", "--decay", "5", "--n", "2", "--T", "2", "--steps", "1", "--out", str(tmp_path / "run")],
             ["portrait", "--case", "spiral", "--out", "x.png"], ["fixed-points", "--eig", "1", "x"],
             ["capacity", "--n", "0"], ["capacity", "fit", "--steps", "0"], ["sweep", "no-such-sweep"],
             ["plot", str(tmp_path / "none")], ["records", str(tmp_path), "--to", str(tmp_path / "rec")],
             ["cayley-drift", "--lr", "nan", "--n", "2", "--steps", "1"], ["propagate", "--n", "0", "--opt", "x"]]
    result = _run(argvs)
    assert result["loaded"] == []
    codes = result["codes"]
    assert {k: v for k, v in codes.items() if k.endswith("--help") or k in ("--version", "configs")} == {
        " ".join(a): 0 for a in argvs[:3 + len(commands)]}
    assert {k: v for k, v in codes.items() if v != 0} == {" ".join(a): 2 for a in argvs[3 + len(commands):]}
