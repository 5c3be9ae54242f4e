"""check_int: integers at or above a minimum pass through; anything else is a UsageError naming it."""

import numpy as np
import pytest

from rnnlab.errors import UsageError, check_int


@pytest.mark.parametrize("value, minimum", [(1, 1), (7, 1), (0, 0), (2, 2), (np.int64(5), 1)])
def test_accepts_integers_at_or_above_the_minimum(value, minimum):
    assert check_int(value, "n", minimum) == value


@pytest.mark.parametrize("value, minimum, message", [
    (0, 1, "n must be a positive integer, got 0"),
    (True, 1, "n must be a positive integer, got True"),
    (2.0, 1, "n must be a positive integer, got 2.0"),
    ("3", 1, "n must be a positive integer, got '3'"),
    (-1, 0, "n must be a non-negative integer, got -1"),
    (1, 2, "n must be an integer >= 2, got 1"),
])
def test_rejects_with_one_line_naming_the_value(value, minimum, message):
    with pytest.raises(UsageError) as err:
        check_int(value, "n", minimum)
    assert str(err.value) == message
