"""The shipped package keeps the shape issue 15 gave it: platforms are plug-ins.

Knowledge of a platform lives in ``feedsync/platforms/<name>/`` only; the package
that goes to Lambda imports no HTTP server, no local stack and no test double; and
no module grows past what a newcomer can read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from feedsync.platforms.registry import PLATFORM_NAMES

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "common" / "feedsync"
MAX_MODULE_LINES = 800
# Servers, the local stack and what only tests and the local stack use.
NOT_SHIPPED = ("http.server", "socketserver", "wsgiref", "feedsync_local", "moto")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_package_holds_modules_to_check() -> None:
    # Given the shipped package, Then the checks below have something to look at
    assert len(_modules()) > 50
    assert set(PLATFORM_NAMES) >= {"bigcommerce", "shopify", "woocommerce"}


def test_no_platform_is_named_outside_its_folder() -> None:
    # Given every string in the shipped package outside platforms/
    found = []
    for path in _modules():
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "platforms":
            continue
        for line, text in _string_constants(ast.parse(path.read_text(encoding="utf-8"))):
            # AWS's own domain (a Cognito issuer) names no store platform.
            lowered = text.lower().replace(".amazonaws.com", "")
            found += [f"{relative}:{line}: {text!r}" for n in PLATFORM_NAMES if n in lowered]
    # Then none of them names a platform: the code asks the platform's spec instead
    assert found == []


def test_a_platform_folder_names_no_other_platform() -> None:
    # Given each platform's folder
    found = []
    for name in PLATFORM_NAMES:
        others = [n for n in PLATFORM_NAMES if n != name]
        for path in sorted((PACKAGE / "platforms" / name).rglob("*.py")):
            text = path.read_text(encoding="utf-8").lower()
            found += [f"{path.relative_to(PACKAGE)} names {o}" for o in others if o in text]
    # Then it knows only its own platform
    assert found == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_a_newcomer_can_read(path: Path) -> None:
    # Given a module of the shipped package, Then it stays under the limit
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines"


def test_the_shipped_package_imports_no_server_double_or_local_stack() -> None:
    # Given every import in the shipped package
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [
                f"{path.relative_to(PACKAGE)}: {n}"
                for n in names
                if any(n == bad or n.startswith(bad + ".") for bad in NOT_SHIPPED)
            ]
    # Then none of them is a server, the local stack, moto or a double
    assert found == []


def test_moto_s_mock_aws_is_used_by_unit_tests_only() -> None:
    # Given the tests outside tests/unit, which share a process with a local stack's moto
    # (make test runs tests/unit in a pytest run of its own)
    tests = Path(__file__).resolve().parents[1]
    others = [
        p
        for p in tests.rglob("*.py")
        if tests / "unit" not in p.parents and "mock_aws" in p.read_text(encoding="utf-8")
    ]
    # Then none of them uses mock_aws, whose end resets moto's in-process backends (and
    # with them the local stack's tables)
    assert others == []
