"""One registry pattern: every registry names its choices the same way and refuses a silent override."""

import pytest

from rnnlab.capacity import parameterizations
from rnnlab.dynamics import initializers
from rnnlab.errors import UsageError
from rnnlab.registry import Registry
from rnnlab.training import cells, tasks

MODULES = [(parameterizations, "parameterization"), (initializers, "initialiser"), (cells, "model"), (tasks, "task")]


def test_add_get_describe_and_no_silent_override():
    reg = Registry("thing")
    assert reg.register("a", "the first")(len) is len
    reg.add("b", abs, "the second")
    assert reg.names() == ["a", "b"] and reg.get("b") is abs and reg.describe("a") == "the first"
    assert "a" in reg and "c" not in reg and len(reg) == 2
    with pytest.raises(ValueError, match="'a' is already registered"):
        reg.add("a", max, "again")
    assert reg.get("a") is len
    with pytest.raises(UsageError, match=r"unknown thing 'c'; choose from a, b$"):
        reg.get("c")


@pytest.mark.parametrize("module, kind", MODULES, ids=[kind for _, kind in MODULES])
def test_every_registry_module_speaks_the_same_way(module, kind):
    assert sorted(module.names()) == sorted(module.REGISTRY.names()) and len(module.names()) >= 4
    for name in module.names():
        assert module.get(name) is module.REGISTRY.get(name)
        assert module.REGISTRY.describe(name).strip()
    with pytest.raises(UsageError, match=f"unknown {kind} 'nope'; choose from {module.REGISTRY.names()[0]}"):
        module.get("nope")
