"""The code's shape, as a newcomer relies on it: no import cycles in webapp/ and bot/ (lazy imports
inside functions count too), and no module that does several jobs at once (~300 lines at most).
`make lint` also checks the layers themselves (lint-imports, contracts in pyproject.toml)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("webapp", "bot")
MAX_LINES = 330  # "about 300"; texts, vendored files and migrations aside


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours `name` imports anywhere in its body."""

    def ours(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(ours(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                targets.add(ours(f"{base}.{alias.name}") or ours(base))
    return {t for t in targets if t and t != name}


def test_no_module_imports_itself_back_through_others():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"an import cycle: {' -> '.join(exc.args[1])}") from None


def test_a_planted_cycle_is_found(tmp_path):
    """The check above can fail: a lazy import that closes a loop is seen."""
    modules = {"webapp.a": tmp_path / "a.py", "webapp.b": tmp_path / "b.py"}
    modules["webapp.a"].write_text("from webapp import b\n")
    modules["webapp.b"].write_text("def late():\n    from webapp.a import thing\n")
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph == {"webapp.a": {"webapp.b"}, "webapp.b": {"webapp.a"}}


def test_no_module_is_a_second_job_in_disguise():
    skipped = ("webapp/texts/", "static/vendor/")
    long = {}
    for path in [*_modules().values(), *(ROOT / "static").rglob("*.js")]:
        relative = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES and not relative.startswith(skipped):
            long[relative] = lines
    assert long == {}
