"""Package boundaries: no package imports another package's private module or name.

Walks the import statements of every module under ``src/labelaudit`` (absolute and
relative, at any depth, including imports inside functions and ``TYPE_CHECKING`` blocks).
A package is a first-level directory of ``labelaudit`` (``agreement``, ``report``, ...);
modules at the root (``labelaudit.results``, ``labelaudit.intervals``, ...) are shared by
all. Importing ``labelaudit.<other>._x`` or a ``_name`` from another package is a
violation: shared pieces get a public home instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "labelaudit"


def _module_name(path: Path, root: Path) -> list[str]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _imports(path: Path, root: Path) -> list[tuple[int, list[str], list[str]]]:
    """(line, imported module parts, imported names) of every import in ``path``."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split("."), []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return found


def violations(root: Path = ROOT) -> list[str]:
    """``file:line imports x`` for each cross-package private import under ``root``."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        own = _module_name(path, root)[1:2]
        for line, module, names in _imports(path, root):
            if module[:1] != ["labelaudit"] or len(module) < 2:
                continue
            other = module[1:2]
            if other == own:
                continue
            if len(module) == 2 and _private(module[1]):
                continue  # a private module at the root is shared by every package
            private = [p for p in module[2:] if _private(p)] + [n for n in names if _private(n)]
            if private:
                where = path.relative_to(root.parent)
                bad.append(f"{where}:{line} imports {'.'.join(module)} ({', '.join(private)})")
    return bad


def test_no_package_imports_another_packages_private_module() -> None:
    assert violations() == []


def test_the_walk_finds_planted_violations(tmp_path: Path) -> None:
    # the rule itself must be able to fail: absolute, relative and function-level imports
    root = tmp_path / "labelaudit"
    (root / "quality").mkdir(parents=True)
    (root / "report").mkdir()
    for package in (root, root / "quality", root / "report"):
        (package / "__init__.py").write_text("")
    (root / "report" / "_charts.py").write_text("def _figure(): ...\n")
    (root / "report" / "charts.py").write_text("from ._charts import _figure\n")
    (root / "quality" / "a.py").write_text(
        "def f():\n    from labelaudit.report._charts import Chart\n    return Chart\n"
    )
    (root / "quality" / "b.py").write_text("from ..report import _charts\n")
    (root / "quality" / "c.py").write_text("from labelaudit.report.charts import _figure\n")
    (root / "quality" / "ok.py").write_text("from labelaudit.report import charts\n")
    found = violations(root)
    assert [v.split(":")[0] for v in found] == [
        "labelaudit/quality/a.py",
        "labelaudit/quality/b.py",
        "labelaudit/quality/c.py",
    ]
