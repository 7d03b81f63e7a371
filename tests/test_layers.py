"""The package's layers import one way, and no module takes a private name from another."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT


def test_import_linter_contracts_are_kept():
    # import-linter is in the dev extra; run as a module, whatever PATH holds
    res = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                          "lint_imports_command()", "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in res.stdout


def test_no_module_imports_a_private_name_or_the_package_root():
    found = []
    for path in sorted((ROOT / "netdraw").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("netdraw"):
                if node.module == "netdraw" and path.name != "__init__.py":
                    found.append(f"{path.relative_to(ROOT)}: imports the package root")
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
    assert found == []


def test_the_package_root_only_re_exports():
    import netdraw

    tree = ast.parse((ROOT / "netdraw" / "__init__.py").read_text(encoding="utf-8"))
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert defined == ["__getattr__"]  # the lazy re-export of names that need torch
    import importlib

    for sub in ("api", "renderers", "frontends", "passes", "analysis", "exporters", "capture", "ir"):
        assert importlib.import_module(f"netdraw.{sub}").__name__ == f"netdraw.{sub}"
    # a name at the top never hides a subpackage of the same name
    assert not any(getattr(netdraw, n, None) is not None and not hasattr(getattr(netdraw, n), "__path__")
                   and (ROOT / "netdraw" / n).is_dir() for n in netdraw.__all__)


def test_the_public_api_type_checks():
    """mypy on a program using the public API, and on the modules that define it."""
    files = ["tests/typing/public_api.py", "netdraw/__init__.py", "netdraw/api.py", "netdraw/ir.py",
             "netdraw/options.py", "netdraw/errors.py", "netdraw/frontends/__init__.py"]
    res = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports", "--follow-imports=silent", "--no-error-summary",
                          "--cache-dir", str(ROOT / ".cache" / "mypy"), *files], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout[-3000:]
