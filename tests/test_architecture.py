"""The rules of the arrows that a parser can check (docs/architecture.md): no import cycles between the app's
modules, and no import hidden inside a function unless its line says why.

Read from the source with `ast`, nothing imported: a cycle that only works because one side imports at call time
is still a cycle here, so it cannot be hidden again by moving an import into a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("api", "audit", "bookings", "config", "locks", "signin", "tenants", "webhooks")  # the app's own packages
# Bounded on their own and checked by their own rules (docs/architecture.md, rules 1 and 2).
OUTSIDE = (("locks", "tuya"), ("locks", "simulator"))
WHY = "# why:"  # an import inside a function is allowed only with this on its line, saying why


def app_modules() -> dict[str, Path]:
    modules = {}
    for package in APPS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or any(parts[: len(prefix)] == prefix for prefix in OUTSIDE):
                continue
            modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


MODULES = app_modules()


def imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Every name the statement may load as a module: `from a import b` loads `a` and, if it is one, `a.b`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([base] if base else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def imports_of(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """The app modules `module` imports (wherever the import stands), and its nested imports without a why."""
    source = MODULES[module].read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    nested = {
        id(inner)
        for outer in ast.walk(tree)
        if isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))
        for inner in ast.walk(outer)
    }
    targets: set[str] = set()
    unexplained = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        targets.update(name for name in imported(module, node) if name in MODULES and name != module)
        statement = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        if id(node) in nested and not any(WHY in line for line in statement):
            unexplained.append((node.lineno, statement[0].strip()))
    return targets, unexplained


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_checks_see_the_app() -> None:
    # A check that reads nothing passes anything: make sure it reads the modules that used to tangle.
    assert {"locks.codes", "locks.jobs", "locks.models", "tenants.models", "config.middleware"} <= set(MODULES)
    assert not any(name.startswith(("locks.tuya", "locks.simulator")) for name in MODULES)
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


def test_no_import_cycles_between_app_modules() -> None:
    edges = {module: imports_of(module)[0] for module in MODULES}
    found = cycles(edges)
    detail = [f"{group}: " + "; ".join(f"{m} -> {sorted(edges[m] & set(group))}" for m in group) for group in found]
    assert not found, "Import cycles (move the shared part down a layer, or enqueue by dotted path):\n" + "\n".join(
        detail
    )


def test_no_import_inside_a_function_without_a_reason() -> None:
    unexplained = [
        f"{MODULES[module].relative_to(ROOT)}:{line}: {text}"
        for module in MODULES
        for line, text in imports_of(module)[1]
    ]
    assert not unexplained, f"Imports inside functions, without '{WHY} ...' on their line:\n" + "\n".join(unexplained)


# --- the cloud port (docs/architecture.md, "The cloud port") ----------------------------------------------------

ADAPTER = "locks.cloud.tuya"  # the Tuya adapter: the one app package that may import the client
# Allowed by design: the `tuya` command is the client's own command line, and the push consumer drives the client's
# push connection (it hands the app what the messages mean).
CLIENT_USERS = frozenset({"locks.management.commands.tuya", "locks.push"})


def client_imports(module: str) -> set[str]:
    """The modules of `locks.tuya` (the client) and of the adapter that `module` imports, wherever it imports them."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if name.split(".")[:2] == ["locks", "tuya"] or name.startswith(ADAPTER)}
    return found


def test_only_the_adapter_imports_the_tuya_client() -> None:
    offenders = {
        module: sorted(name for name in client_imports(module) if name.startswith("locks.tuya"))
        for module in MODULES
        if not module.startswith(ADAPTER) and module not in CLIENT_USERS
    }
    offenders = {module: names for module, names in offenders.items() if names}
    assert not offenders, (
        "Only the Tuya adapter (locks/cloud/tuya/) imports locks.tuya; speak the port (locks/cloud/port.py):\n"
        + "\n".join(f"{module}: {names}" for module, names in sorted(offenders.items()))
    )


def test_nothing_above_the_port_names_the_adapter() -> None:
    # A second vendor adds an adapter and its choice in locks/cloud/accounts.py and endpoints.py: nothing else.
    inside = {"locks.cloud.accounts", "locks.cloud.endpoints"}
    offenders = {
        module: sorted(name for name in client_imports(module) if name.startswith(ADAPTER))
        for module in MODULES
        if not module.startswith(ADAPTER) and module not in inside
    }
    offenders = {module: names for module, names in offenders.items() if names}
    assert not offenders, "Get a cloud from locks.cloud.accounts.cloud_for, not from the adapter:\n" + "\n".join(
        f"{module}: {names}" for module, names in sorted(offenders.items())
    )
