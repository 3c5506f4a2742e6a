"""The package's layout: every module lives in a package that names its part of the
architecture, and no package reaches into another's private names. The layers between the
packages are import-linter contracts (pyproject.toml); these are the rules it cannot state."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"

# What may sit at the top of reconciler/ beside the packages: the package's own files and the
# root error every package raises.
TOP_LEVEL = {"__init__.py", "__main__.py", "py.typed", "errors.py"}

# A module longer than this holds more than one concern: split it by concern in its package.
MAX_LINES = 600
# Modules still over MAX_LINES while their split is under way, each with its length today as
# its ceiling: none may grow, and none may join.
LONG_FOR_NOW: dict[str, int] = {}


def stray_modules(root: Path) -> list[str]:
    """Files at the top of `root` that are neither allowed there nor a package."""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.name not in TOP_LEVEL
        and p.name != "__pycache__"
        and not (p.is_dir() and (p / "__init__.py").exists())
    )


def long_modules(root: Path, allowed: dict[str, int]) -> list[str]:
    """Modules of `root` over MAX_LINES (or over their ceiling in `allowed`), as "path: lines"."""
    found = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > allowed.get(name, MAX_LINES):
            found.append(f"{name}: {lines}")
    return found


def _package_of(module: str) -> str:
    """`reconciler.engine.run` → `engine`; `reconciler.errors` → `errors`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(rel[:-1] if rel[-1] == "__init__" else rel)


def private_imports(root: Path) -> list[str]:
    """Every `from reconciler.X… import _name` whose module is in another package than the
    importer, as "importer: module._name"."""
    found = []
    for path in sorted(root.rglob("*.py")):
        importer = _module_name(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not node.module.startswith(root.name + "."):
                continue
            if _package_of(node.module) == _package_of(importer):
                continue
            found += [
                f"{importer}: {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    return found


def test_no_module_at_the_top_of_the_package() -> None:
    """Every module of reconciler/ sits in a package; only the package's own files and
    errors.py are at the top."""
    assert stray_modules(PACKAGE) == []


def test_the_top_level_check_sees_a_stray_module(tmp_path: Path) -> None:
    """A module added at the top is reported; packages and the allowed files are not."""
    root = tmp_path / "reconciler"
    (root / "engine").mkdir(parents=True)
    (root / "engine" / "__init__.py").write_text("")
    for name in (*TOP_LEVEL, "stray.py"):
        (root / name).write_text("")
    (root / "loose").mkdir()  # a folder without __init__.py is no package
    assert stray_modules(root) == ["loose", "stray.py"]


def test_no_module_is_over_600_lines() -> None:
    """A module of reconciler/ holds one concern, in at most MAX_LINES lines."""
    assert long_modules(PACKAGE, LONG_FOR_NOW) == []


def test_the_length_check_sees_a_long_module(tmp_path: Path) -> None:
    """A module over the limit is reported, and one over its ceiling; one at it is not."""
    root = tmp_path / "reconciler"
    (root / "engine").mkdir(parents=True)
    (root / "engine" / "short.py").write_text("x = 1\n" * MAX_LINES)
    (root / "engine" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (root / "engine" / "ceiling.py").write_text("x = 1\n" * 700)
    (root / "engine" / "grown.py").write_text("x = 1\n" * 701)
    allowed = {"engine/ceiling.py": 700, "engine/grown.py": 700}
    assert long_modules(root, allowed) == ["engine/grown.py: 701", "engine/long.py: 601"]


def test_no_module_imports_another_packages_private_names() -> None:
    """A name starting with `_` is private to its package: no other package imports it."""
    assert private_imports(PACKAGE) == []


def test_the_private_check_sees_a_private_import(tmp_path: Path) -> None:
    """An import of `_name` across packages is reported; within a package it is not."""
    root = tmp_path / "reconciler"
    for pkg in ("adopt", "planning"):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "planning" / "rollout.py").write_text(
        "from reconciler.planning.planner import _Resolver\n"
    )
    (root / "adopt" / "aliases.py").write_text(
        "from reconciler.planning.planner import Resolver, _Resolver\n"
    )
    assert private_imports(root) == [
        "reconciler.adopt.aliases: reconciler.planning.planner._Resolver"
    ]


def test_importing_the_aws_package_does_not_import_boto3() -> None:
    """`reconciler.aws` offers the observed state and the Protocols without the boto3 client:
    importing it, or the engine that uses them, loads no AWS SDK."""
    code = (
        "import sys, reconciler.aws, reconciler.engine, reconciler.planning\n"
        "sdk = ('boto3', 'botocore', 'reconciler.aws.client', 'reconciler.aws.session')\n"
        "print(sorted(m for m in sdk if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    assert out.stdout.strip() == "[]"
