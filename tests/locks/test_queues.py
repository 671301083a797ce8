"""locks/queues.py and locks/periodic.py name jobs by dotted path (so that services need not import locks.jobs):
every path they name leads to a function the workers can import, with the arguments it is given."""

from __future__ import annotations

import ast
import inspect

from rq.utils import import_attribute

from locks import periodic, queues


def paths_named_in(module: object) -> set[str]:
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(("locks.", "api.", "webhooks.", "bookings."))
    }


def test_every_job_named_by_path_is_a_function() -> None:
    named = paths_named_in(queues)
    assert len(named) >= 10  # a check that finds no path passes anything
    for path in named:
        assert inspect.isfunction(import_attribute(path)), path
        # Every job of queues.py is given one id (a code, a lock, a method, ...).
        assert len(inspect.signature(import_attribute(path)).parameters) == 1, path


def test_every_periodic_job_is_a_function_of_no_arguments() -> None:
    assert paths_named_in(periodic) == {task.job for task in periodic.PERIODIC}
    for task in periodic.PERIODIC:
        func = import_attribute(task.job)
        assert inspect.isfunction(func), task.job
        assert not inspect.signature(func).parameters, task.job
