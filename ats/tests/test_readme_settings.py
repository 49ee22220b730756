"""The README's configuration table lists every environment variable the code reads, with
the code's default, and nothing the code no longer reads: the docs cannot rot.

The variables are found by reading the source (`env.<type>("NAME", default=...)` of
django-environ, `os.environ.get("NAME", ...)`, `os.environ["NAME"]`, `os.getenv`), not
listed here by hand, so a new setting without a README row fails this test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
README = BASE_DIR / "README.md"
CONFIGURATION_HEADING = "## Configuration"
# Where settings are read: the apps' code (tests and the test settings excluded) and
# gunicorn's configuration.
APPS = ("ats", "jobs", "research")
EXTRA_SOURCES = ("gunicorn.conf.py",)
# Where a documented variable may be used besides the Python code (make run, compose).
OTHER_USES = ("Makefile", "Dockerfile", "docker-compose.yml", "bin")
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


@dataclass
class EnvRead:
    name: str
    defaults: list[object] = field(default_factory=list)  # literal defaults seen
    places: list[str] = field(default_factory=list)


def python_sources() -> list[Path]:
    paths = [BASE_DIR / name for name in EXTRA_SOURCES]
    for app in APPS:
        paths += [
            path
            for path in sorted((BASE_DIR / app).rglob("*.py"))
            if "tests" not in path.relative_to(BASE_DIR).parts
            and path.name != "settings_test.py"
            and "migrations" not in path.parts
        ]
    return paths


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _read_call(node: ast.Call) -> tuple[str, object] | None:
    """(name, literal default or ...) when the call reads an environment variable."""
    func = node.func
    reads = (
        # env("X"), env.str("X"), env.bool("X"), env.db_url("X") ...
        (isinstance(func, ast.Name) and func.id == "env")
        or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
            and not func.attr.startswith("read_")
        )
        # os.environ.get("X", default), os.getenv("X", default)
        or (isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value))
        or (
            isinstance(func, ast.Attribute)
            and func.attr == "getenv"
            and isinstance(func.value, ast.Name)
            and func.value.id == "os"
        )
    )
    if not reads or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    default: object = ...
    keywords = {keyword.arg: keyword.value for keyword in node.keywords}
    candidate = node.args[1] if len(node.args) > 1 else keywords.get("default")
    if isinstance(candidate, ast.Constant):
        default = candidate.value
    return first.value, default


def env_reads() -> dict[str, EnvRead]:
    found: dict[str, EnvRead] = {}
    for path in python_sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            read: tuple[str, object] | None = None
            if isinstance(node, ast.Call):
                read = _read_call(node)
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and _is_os_environ(node.value)
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
            ):
                read = (node.slice.value, ...)
            if read is None:
                continue
            name, default = read
            entry = found.setdefault(name, EnvRead(name))
            entry.places.append(f"{path.relative_to(BASE_DIR)}:{node.lineno}")
            if default is not ...:
                entry.defaults.append(default)
    return found


def readme_rows() -> list[tuple[list[str], list[str]]]:
    """The configuration table's rows: (variable names, backticked values of the default
    column)."""
    text = README.read_text()
    start = text.index(CONFIGURATION_HEADING)
    end = text.find("\n## ", start + len(CONFIGURATION_HEADING))
    section = text[start : end if end != -1 else len(text)]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or set(cells[0]) <= {"-", " "}:
            continue
        names = NAME.findall(cells[0])
        if names:
            rows.append((names, _literal_values(cells[1])))
    return rows


def _literal_values(cell: str) -> list[str]:
    """The values of a default cell made of literals only (`30` / `3600`, `true`, `true`);
    none when it is described in words ("generated when `DEBUG` is on")."""
    values = re.findall(r"`([^`]*)`", cell)
    words = re.sub(r"`[^`]*`", "", cell)
    return values if not re.sub(r"[\s,/]", "", words) else []


def documented() -> dict[str, str | None]:
    """Each documented variable and its default as the README writes it (None when the
    README describes it in words, e.g. "secure when DEBUG is off")."""
    names: dict[str, str | None] = {}
    for row_names, defaults in readme_rows():
        paired = len(defaults) == len(row_names)
        for index, name in enumerate(row_names):
            names[name] = defaults[index] if paired else None
    return names


def same_default(readme: str, code: object) -> bool:
    if isinstance(code, bool):
        return readme.lower() == str(code).lower()
    if isinstance(code, (int, float)):
        try:
            return float(readme) == float(code)
        except ValueError:
            return False
    return readme == str(code)


def test_the_parsers_find_what_is_known() -> None:
    """Not an empty pass: the source scan sees settings of each kind, and the README's table
    is found."""
    reads = env_reads()
    for name in ("DATABASE_URL", "CACHE_URL", "RATE_LIMIT_API_KEY", "NUM_PROXIES", "LOG_FORMAT"):
        assert name in reads, name
    assert reads["JOBS_PREPARED_STATEMENTS"].defaults == [True]  # env.bool
    assert reads["JOBS_LEASE_TIMEOUT"].defaults == [60.0]
    assert "PROMETHEUS_MULTIPROC_DIR" in reads
    assert len(documented()) >= 30


def test_every_setting_read_from_the_environment_is_in_the_readme() -> None:
    listed = documented()
    missing = {
        name: read.places for name, read in sorted(env_reads().items()) if name not in listed
    }
    assert not missing, (
        "Read from the environment but not in the README's configuration table (add a row "
        f"with its default and meaning): {missing}"
    )


def test_the_readme_gives_the_code_defaults() -> None:
    listed = documented()
    wrong = []
    for name, read in sorted(env_reads().items()):
        readme_default = listed.get(name)
        if readme_default is None:
            continue
        for default in read.defaults:
            if not same_default(readme_default, default):
                wrong.append(f"{name}: README `{readme_default}`, code {default!r}")
    assert not wrong, "The README's defaults differ from the code's:\n" + "\n".join(wrong)


def test_every_documented_setting_is_still_used() -> None:
    reads = env_reads()
    other_text = ""
    for name in OTHER_USES:
        path = BASE_DIR / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        other_text += "".join(p.read_text(errors="replace") for p in files if p.exists())
    stale = [
        name
        for name in documented()
        if name not in reads and not re.search(rf"\b{name}\b", other_text)
    ]
    assert not stale, f"In the README's configuration table but read nowhere: {stale}"
