"""Schemathesis's operation tests built when they run, not when they are collected.

``@schema.parametrize()`` builds one Hypothesis test per API operation while pytest collects
the module, and the build is most of the cost: the coverage phase's examples for each of the
164 operations, twice (two test functions), about 10 s of CPU. Under pytest-xdist every
worker collects every module, so each worker paid it, though one worker runs the module (its
``xdist_group``). Here the collector gets a stand-in with the test's name, signature and
marks (the same node ids, fixtures and markers everywhere), and the item builds the real test
with the same arguments in its set-up, in the worker that runs it. What each test sends and
checks is unchanged; a schema that cannot be built fails the test at set-up instead of at
collection. The stand-in refuses to run, so a test whose build was skipped cannot pass.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from schemathesis.pytest import _test_builder
from schemathesis.pytest.plugin import SchemathesisCase, SchemathesisFunction

#: The attribute of a stand-in holding the call that builds the real test.
BUILD = "_tindahan_build_operation_test"


def _stand_in(**arguments: Any) -> Callable[..., Any]:
    """What the collector keeps instead of the built test: the signature Hypothesis's
    ``@given(case=...)`` would leave (``case`` removed), and how to build it later."""
    test_func = arguments["test_func"]
    signature = inspect.signature(test_func)

    def stand_in(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError(f"{test_func.__name__}: the operation test was never built")

    stand_in.__name__ = test_func.__name__
    stand_in.__qualname__ = test_func.__qualname__
    stand_in.__module__ = test_func.__module__
    stand_in.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for name, p in signature.parameters.items() if name != "case"]
    )
    if hasattr(test_func, "pytestmark"):
        stand_in.pytestmark = test_func.pytestmark  # type: ignore[attr-defined]
    stand_in.is_hypothesis_test = True  # type: ignore[attr-defined]  # Hypothesis's marker
    setattr(stand_in, BUILD, lambda: _BUILD_NOW(**arguments))
    return stand_in


_BUILD_NOW = _test_builder.build_operation_test


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[Any]:
    """While schemathesis collects an operation test, it builds stand-ins."""
    if not isinstance(collector, SchemathesisCase):
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_test_builder, "build_operation_test", _stand_in)
        return (yield)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The real test, built before anything (Hypothesis's plugin included) looks at it."""
    if isinstance(item, SchemathesisFunction) and hasattr(item.obj, BUILD):
        built = getattr(item.obj, BUILD)()
        assert getattr(built, "is_hypothesis_test", False), built
        item.obj = built
