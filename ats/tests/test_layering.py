"""The apps' layering (BRIEF): `ats` is the core and knows nothing of research; `jobs` is a
generic queue and knows nothing of research either. Strings (URL includes, INSTALLED_APPS)
are configuration, not imports, and are allowed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
FORBIDDEN = {"ats": {"research"}, "jobs": {"research"}}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(app: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(BASE_DIR)}:{line} imports {module}"
        for path in sorted((BASE_DIR / app).rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_app_does_not_import_what_builds_on_it(app: str) -> None:
    assert violations(app, FORBIDDEN[app]) == []


def test_the_check_finds_imports(tmp_path: Path) -> None:
    # Guards the test above against passing because it looks at nothing.
    module = tmp_path / "mod.py"
    module.write_text("import research.models\ndef f():\n    from research import demo\n")
    assert imported_modules(module) == [(1, "research.models"), (3, "research")]
    assert len(list((BASE_DIR / "ats").rglob("*.py"))) > 20
