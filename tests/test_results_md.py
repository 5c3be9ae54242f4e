"""docs/RESULTS.md's at-a-glance rows say what the committed records under results/ say.

Every number of a row's "ours" and "status" cells is recomputed here from the records, in the
order the text gives them, and must be the record's value rounded as the text rounds it (a
token's own digits set the precision: "0.08" is the record to two decimals, "1.0e-4" to two
significant digits, half up). A number no record holds is listed as :data:`UNRECORDED`, and
its cells must say "[no record]" once for each such measurement. So a drifting record, a
mistyped number, a number added or dropped in the text all fail here; where the text states a
comparison (no model beats the previous frame on PESQ, ...) it is checked too. Rows with no
record behind them are listed in :data:`NOT_FROM_RECORDS` with the reason; every row must be
checked or listed. The "paper says" column comes from our reference notes on the papers, not
from a record, and is not checked.

The np-RNN addition and multiplication rows are checked apart (last test) with the table
functions of ``paper_figures/np_rnn_addition.py``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from rnnlab.training import sweep

ROOT = Path(__file__).resolve().parents[1]
RESULTS_MD = ROOT / "docs" / "RESULTS.md"
RECORDS = ROOT / "results"

#: The paper's training length of the uRNN MNIST table (the text says "5000 of its 10^5 steps").
PAPER_MNIST_STEPS = 10**5
#: A number the text gives that no committed record holds; its cell must say "[no record]".
UNRECORDED = object()
#: At-a-glance rows whose numbers no record under results/ holds, and why.
NOT_FROM_RECORDS = {
    "uRNN: capacity argument": "Jacobian ranks from `rnnlab capacity`, no committed record",
    "np-RNN: 2-unit dynamics (figure)": "fixed-point analysis of four 2-unit cases, no number from a run",
    "np-RNN: action recognition, UCF-101": "no number of ours: the pipeline runs on generated features only",
}
#: Rows the np-RNN addition test below checks.
NP_RNN_TABLES = ("np-RNN: addition T = 150-400 (table)", "np-RNN: multiplication T = 150-400 (table)")

# A number as the text writes it: 0.0024, 1.0e-4, 10^4, 16,134; not the 7 of "7N" nor "N".
NUMBER = re.compile(r"(?<![\w.^])\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?(?:\^\d+)?(?!\w|\.\d)")


def at_a_glance() -> dict[str, list[str]]:
    """The at-a-glance table's rows: first cell -> [paper says, ours, status]."""
    text = RESULTS_MD.read_text()
    table = text[text.index("### At a glance"):].split("\n\n")[2]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value if isinstance(value, int) else repr(float(value)))


def agrees(token: str, value) -> bool:
    """Whether ``token`` is ``value`` rounded half up to the token's own digits."""
    if value is UNRECORDED:
        return True
    if "^" in token:
        base, power = token.split("^")
        return value == int(base) ** int(power)
    text, v = token.replace(",", ""), _decimal(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        shown = Decimal(mantissa).scaleb(int(exponent))
        return 1 <= Decimal(mantissa) < 10 and abs(v - shown) <= Decimal(5).scaleb(int(exponent) - digits - 1)
    digits = len(text.split(".")[1]) if "." in text else 0
    return v.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP) == Decimal(text)


def check(row: str, cells: list[str], expected: list) -> None:
    """The numbers of ``cells`` (ours, status) are ``expected``, in order."""
    text = " | ".join(cells)
    found = numbers(text)
    assert len(found) == len(expected), f"{row}: {len(found)} numbers in the text, {len(expected)} expected: {found}"
    wrong = [(t, str(v)) for t, v in zip(found, expected) if not agrees(t, v)]
    assert not wrong, f"{row}: text vs record: {wrong}"
    # Each run of unrecorded numbers (one measurement) needs its own mark.
    runs = sum(1 for k, v in enumerate(expected) if v is UNRECORDED and (k == 0 or expected[k - 1] is not UNRECORDED))
    assert text.count("[no record]") >= runs, f"{row}: {runs} numbers without a record, not each marked [no record]"


def pct(fraction) -> Decimal:
    """An accuracy as a percentage, exactly (0.1135 -> 11.35)."""
    return _decimal(fraction) * 100


def powers(steps: int) -> list[int]:
    """The numbers of "5 x 10^4" (or "10^4") for ``steps``."""
    exponent = len(str(steps)) - 1
    mantissa, rest = divmod(steps, 10**exponent)
    assert rest == 0
    return ([mantissa] if mantissa > 1 else []) + [10**exponent]


@pytest.fixture(scope="module")
def rows():
    return at_a_glance()


def test_every_at_a_glance_row_is_checked_or_says_why_not(rows):
    checked = {"uRNN: system identification vs N (figure)", "uRNN: copy memory T = 1000, 2000 (figure)",
               "uRNN: pixel / permuted MNIST (table)", "uRNN: speech prediction (table)",
               "np-RNN: pixel MNIST (table)", *NP_RNN_TABLES}
    assert set(rows) == checked | set(NOT_FROM_RECORDS)
    for name in NOT_FROM_RECORDS:
        if name != "np-RNN: action recognition, UCF-101":
            assert "[no record]" in rows[name][2], f"{name}: not marked [no record]"


def test_number_tokens_and_rounding():
    assert numbers("N = 4-128, 7N - 7, 1.0e-4 / 10^4 steps, 16,134 params, 0.15%; of 3.") == [
        "4", "128", "7", "1.0e-4", "10^4", "16,134", "0.15", "3"]
    assert agrees("11.4", pct(0.1135)) and not agrees("11.3", pct(0.1135))
    assert agrees("1e-10", 1.3e-10) and agrees("1.0e-4", 9.82e-5) and not agrees("1.0e-4", 1.06e-4)
    assert agrees("0.08", 0.0848) and not agrees("0.09", 0.0848) and agrees("10^4", 10000)
    assert agrees("1.001", 1.00102) and not agrees("1.001", 1.00152)


def test_system_identification_row(rows):
    results = sweep.read_results(RECORDS / "full_urnn_system_id")

    def best(model, target, n):
        return min(r["final_test_mse"] for r in results if (r["model"], r["target"], r["n"]) == (model, target, n))

    ns = sorted({r["n"] for r in results})
    seeds = {len([r for r in results if r["point"] == p]) for p in {r["point"] for r in results}}
    (seeds_per_point,) = seeds
    (steps,) = {r["steps"] for r in results}
    check("system identification", rows["uRNN: system identification vs N (figure)"][1:], [
        ns[0], ns[-1], seeds_per_point, steps,
        *(best("full-urnn", "full", n) for n in (8, 16, 32)), 8, 16, 32,
        *(best("restricted-urnn", "full", n) for n in (8, 16, 32))])


def test_copy_row(rows):
    results = {(r["model"], r["T"]): r for r in sweep.read_results(RECORDS / "full_urnn_copy")}

    def ratio(model, T):
        r = results[model, T]
        return r["final_test_xent"] / r["baseline"]

    def test_ratios(model, T):
        r = results[model, T]
        return [(c["step"], c["test_xent"] / r["baseline"])
                for c in sweep.curves(RECORDS / "full_urnn_copy", r["point"], ("test_xent",))]

    below = [(step, x) for step, x in test_ratios("restricted-urnn", 1000) if x < 1]
    n = {model: results[model, 1000]["n"] for model in ("full-urnn", "lstm", "restricted-urnn")}
    (steps,) = {r["steps"] for r in results.values()}
    check("copy", rows["uRNN: copy memory T = 1000, 2000 (figure)"][1:], [
        n["full-urnn"], ratio("full-urnn", 1000), ratio("full-urnn", 2000),
        n["lstm"], ratio("lstm", 1000), ratio("lstm", 2000), *powers(steps),
        n["restricted-urnn"], 1000, ratio("restricted-urnn", 1000),
        pct(1 - max(x for _, x in below)), pct(1 - min(x for _, x in below)), below[0][0], below[-1][0],
        2000, ratio("restricted-urnn", 2000), min(x for _, x in test_ratios("restricted-urnn", 2000)),
        results["restricted-urnn", 2000]["wall_time"] / 3600])
    # "1.2-1.7% gain held from step 1500 to 8000": one stretch below the baseline, not several.
    steps_below = [s for s, _ in below]
    assert steps_below == list(range(steps_below[0], steps_below[-1] + 1, 500))
    # "reproduced for both models at both T", and the restricted uRNN "not near zero".
    for T in (1000, 2000):
        assert ratio("full-urnn", T) < 1e-3 and ratio("lstm", T) >= 1 and ratio("restricted-urnn", T) >= 1


def test_urnn_mnist_row(rows):
    from paper_figures import mnist_table

    results = sweep.read_results(RECORDS / "mnist_table")
    table = {(r["model"], r["n"], r["clip"]): r for r in mnist_table.table_rows(results)}
    full, lstm, clipped, restricted = (table["full-urnn", 116, 0.0], table["lstm", 128, 0.0],
                                       table["lstm", 128, 1.0], table["restricted-urnn", 512, 0.0])
    (steps,) = {r["steps"] for r in results}

    def cell(row, *keys):
        return [pct(row[f"test_accuracy_{k}"]) for k in keys]

    def spread(row, kind):
        return [pct(row[f"test_accuracy_{kind}_min"]), pct(row[f"test_accuracy_{kind}_max"])]

    def step_cost(model):
        return min(r["wall_time"] / r["steps"] for r in results if r["model"] == model)

    (unitary_lr,) = {r["unitary_lr"] for r in results if r["model"] == "full-urnn"}
    assert full["seeds_unpermuted"] == full["seeds_permuted"] == clipped["seeds_unpermuted"] == 3
    check("uRNN MNIST", rows["uRNN: pixel / permuted MNIST (table)"][1:], [
        steps, PAPER_MNIST_STEPS, full["n"],
        full["n"], *cell(full, "unpermuted", "permuted"), full["seeds_unpermuted"],
        *spread(full, "unpermuted"), *spread(full, "permuted"),
        lstm["n"], *cell(lstm, "unpermuted", "permuted"),
        clipped["clip"], *cell(clipped, "unpermuted", "permuted"), clipped["seeds_unpermuted"],
        *spread(clipped, "unpermuted"), *spread(clipped, "permuted"),
        restricted["n"], restricted["lr"], *cell(restricted, "unpermuted", "permuted"),
        UNRECORDED, UNRECORDED,  # the diverged lr 1e-3 start (step 474) is not in the record
        512,  # the full uRNN N = 512, the paper's size, which has no run
        PAPER_MNIST_STEPS // steps,
        step_cost("full-urnn"), full["n"], step_cost("restricted-urnn"), restricted["n"],
        PAPER_MNIST_STEPS, PAPER_MNIST_STEPS * step_cost("full-urnn") / 3600,
        PAPER_MNIST_STEPS * step_cost("restricted-urnn") / 86400,
        unitary_lr, UNRECORDED, steps])  # W's movement was measured on checkpoints, not recorded
    # "six cells of eight (the two missing are the full uRNN N = 512)".
    cells = {(r["model"], r["n"], r["task"]) for r in results}
    assert len({(m, n) for m, n, _ in cells}) == 3 and len(cells) == 6
    assert not any(r["model"] == "full-urnn" and r["n"] == 512 for r in results)


def test_speech_row(rows):
    import json

    results = {(r["model"], r["n"]): r for r in sweep.read_results(RECORDS / "speech_table")}
    recorded = json.loads((RECORDS / "speech_table" / "reference_rows.json").read_text())
    reference = {r["model"]: r for r in recorded["rows"]}
    previous = reference["previous frame (no model)"]
    metrics = ("test_mse", "test_segsnr", "test_stoi", "test_pesq")

    def row(model, n):
        return [n, *(results[model, n][f"final_{m}"] for m in metrics)]

    (steps,) = {r["steps"] for r in results.values()}
    walls = [r["wall_time"] / 60 for r in results.values()]
    check("speech", rows["uRNN: speech prediction (table)"][1:], [
        steps, *row("lstm", 84), *row("restricted-urnn", 128), *row("full-urnn", 128),
        *row("lstm", 156), *row("restricted-urnn", 256), *row("full-urnn", 256),
        *row("lstm", 120), 84, *row("restricted-urnn", 192), *row("full-urnn", 192), 128,
        min(walls), max(walls), *(previous[m] for m in metrics)])
    assert len(results) == 9  # "all nine rows"
    # "which no model beats on PESQ and no uRNN on SegSNR or STOI"
    assert all(r["final_test_pesq"] < previous["test_pesq"] for r in results.values())
    for r in (r for r in results.values() if r["model"] != "lstm"):
        assert r["final_test_segsnr"] < previous["test_segsnr"] and r["final_test_stoi"] < previous["test_stoi"]
    # "the full uRNN does not beat the LSTM at any budget ... its MSE falls with size and the LSTM's does not"
    for lstm_n, full_n in ((84, 128), (120, 192), (156, 256)):
        lstm, full = results["lstm", lstm_n], results["full-urnn", full_n]
        assert lstm["final_test_mse"] < full["final_test_mse"] and lstm["final_test_pesq"] > full["final_test_pesq"]
    full_mse = [results["full-urnn", n]["final_test_mse"] for n in (128, 192, 256)]
    lstm_mse = [results["lstm", n]["final_test_mse"] for n in (84, 120, 156)]
    assert full_mse == sorted(full_mse, reverse=True) and lstm_mse != sorted(lstm_mse, reverse=True)


def test_np_rnn_mnist_row(rows):
    results = {r["model"]: r for r in sweep.read_results(RECORDS / "np_rnn_mnist")}
    order = ("irnn", "lstm", "np-rnn", "irnn-scaled", "np-tanh-rnn", "tanh-rnn")
    (n,) = {r["n"] for r in results.values()}
    (steps,) = {r["steps"] for r in results.values()}
    (lr,) = {r["lr"] for r in results.values()}
    check("np-RNN MNIST", rows["np-RNN: pixel MNIST (table)"][1:], [
        n, *powers(steps), *(pct(results[m]["final_test_accuracy"]) for m in order), lr])
    assert set(results) == set(order)  # "all six rows"
    # "np-RNN above IRNN and LSTM not reproduced"
    accuracy = {m: r["final_test_accuracy"] for m, r in results.items()}
    assert accuracy["np-rnn"] < min(accuracy["irnn"], accuracy["lstm"])


# --- The np-RNN addition and multiplication rows, from paper_figures/np_rnn_addition.py's table.
# Their cells give medians over the seeds that finished and the count that diverged, per model and
# T; a value the text gives as a word ("baseline", "a constant") is not a number and is skipped.

def test_np_rnn_addition_and_multiplication_rows(rows):
    from paper_figures import np_rnn_addition

    results = sweep.read_results(RECORDS / "np_rnn_addition")
    table = np_rnn_addition.table_rows(results)
    Ts = (150, 200, 300, 400)
    # Each model's SGD table rate: the one it ran at T = 200 (the search ran at T = 150 only).
    sgd_lr = {r["model"]: r["lr"] for r in table if r["optimiser"] == "sgd" and r["T"] == 200}

    def lr_of(model, opt):
        return sgd_lr[model] if opt == "sgd" else 1e-3

    def median(task, opt, model, T):
        found = [r for r in table if r["status"] == "complete" and (r["task"], r["optimiser"], r["model"], r["T"])
                 == (task, opt, model, T) and r["lr"] == lr_of(model, opt)]
        return found[0]["test_mse"] if found else None

    def medians(task, opt, model, Ts=Ts):
        return [m for T in Ts if (m := median(task, opt, model, T)) is not None]

    def diverged(task, opt, model):
        return [sum(1 for r in table if r["status"] != "complete" and r["lr"] == lr_of(model, opt)
                    and (r["task"], r["optimiser"], r["model"], r["T"]) == (task, opt, model, T)) for T in Ts]

    def seeds(task, opt, model, T):
        return next(r["seeds"] + r["diverged"] for r in table if r["status"] == "complete" and r["lr"] ==
                    lr_of(model, opt) and (r["task"], r["optimiser"], r["model"], r["T"]) == (task, opt, model, T))

    three = seeds("addition", "sgd", "irnn", 150)
    (clip,) = {r["clip"] for r in results if r["optimiser"] == "sgd"}
    sgd_steps = {r["steps"] for r in results if r["optimiser"] == "sgd"}
    adam_steps = {r["steps"] for r in results if r["optimiser"] == "adam"}
    (sgd_steps,), (adam_steps,) = sgd_steps, adam_steps
    add = "addition"
    check("np-RNN addition", rows[NP_RNN_TABLES[0]][1:], [
        clip, 150, three, *powers(sgd_steps), *Ts,
        *medians(add, "sgd", "irnn"), *diverged(add, "sgd", "irnn"), three,
        *medians(add, "sgd", "np-rnn"), *diverged(add, "sgd", "np-rnn"), three,
        *medians(add, "sgd", "tanh-rnn", (150, 200)),  # at T = 300, 400: "baseline"
        *medians(add, "sgd", "irnn-scaled", (150, 200)),  # likewise
        150, 200, 300, *medians(add, "sgd", "lstm", (150, 200, 300)), 400,
        median(add, "sgd", "lstm", 400), seeds(add, "sgd", "lstm", 400),
        1e-3, *powers(adam_steps), three,
        *medians(add, "adam", "np-rnn"), *diverged(add, "adam", "np-rnn"), three,
        *diverged(add, "adam", "irnn"), three,
        *medians(add, "adam", "irnn-scaled"), *medians(add, "adam", "lstm"), 400,
        # status: T = 150-200, 300, 300-400; Adam: 150-200, 300-400
        150, 200, 300, 300, 400, 150, 200, 300, 400])
    mul = "multiplication"
    check("np-RNN multiplication", rows[NP_RNN_TABLES[1]][1:], [
        three, *Ts, *medians(mul, "adam", "lstm"),
        *medians(mul, "adam", "irnn"), *diverged(mul, "adam", "irnn"), three,
        *medians(mul, "adam", "np-rnn"), *diverged(mul, "adam", "np-rnn"),
        *medians(mul, "adam", "irnn-scaled"), *diverged(mul, "adam", "irnn-scaled"),
        1e-3, three, *Ts, *medians(mul, "sgd", "lstm"),
        *medians(mul, "sgd", "irnn"), *diverged(mul, "sgd", "irnn"), three,
        # the np-RNN at T = 400: "a constant"
        *medians(mul, "sgd", "np-rnn", (150, 200, 300)), *diverged(mul, "sgd", "np-rnn"), three,
        150, 2, three, 200, 300, 400])
    # The claims of the addition row's status cell.
    irnn = {T: [r["final_test_mse"] for r in results if (r["task"], r["optimiser"], r["model"], r["T"], r["lr"])
                == (add, "sgd", "irnn", T, sgd_lr["irnn"]) and r["status"] == "complete"] for T in (150, 200)}
    np_rnn = {T: [r["final_test_mse"] for r in results if (r["task"], r["optimiser"], r["model"], r["T"], r["lr"])
                  == (add, "sgd", "np-rnn", T, sgd_lr["np-rnn"]) and r["status"] == "complete"] for T in (150, 200)}
    assert all(max(irnn[T]) < min(np_rnn[T]) for T in (150, 200))  # "the IRNN beats the np-RNN on every seed"
    sgd_np, sgd_irnn = diverged(add, "sgd", "np-rnn"), diverged(add, "sgd", "irnn")
    assert all(sgd_np[k] > sgd_irnn[k] for k in (2, 3))  # "diverges more often than the IRNN at T = 300-400"
    adam_np, adam_irnn = diverged(add, "adam", "np-rnn"), diverged(add, "adam", "irnn")
    assert adam_np[:2] == [0, 0] and min(adam_irnn[:2]) > 0  # "stable where IRNN is not at T = 150-200"
