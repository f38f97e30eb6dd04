"""The domains' order: each imports only the ones below it (DESIGN.md, Architecture)."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
# Lowest first. A lower domain that must trigger a higher one gets a hook (app/wiring.py).
LAYERS = ["workdays", "directory", "reports", "sla", "stats", "web"]


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, at the top or inside a function, absolute or relative."""
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative: `from ..sla import x` inside app/reports/ names app.sla.
                modules.add(f"..{node.module or ''}" if node.level > 1 else node.module or "")
            elif node.module:
                modules.add(node.module)
                # `from app import sla` imports the package app.sla.
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "app" and parts[1] in LAYERS:
        return parts[1]
    return None


def upward_imports() -> list[str]:
    found = []
    for domain in LAYERS:
        folder = APP / domain
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            for module in sorted(imported_modules(path.read_text(encoding="utf-8"))):
                if module.startswith(".."):
                    raise AssertionError(f"{path}: use absolute imports ({module})")
                target = domain_of(module)
                if target is not None and LAYERS.index(target) > LAYERS.index(domain):
                    found.append(f"{path.relative_to(APP.parent)} imports {module}")
    return found


def test_no_domain_imports_a_domain_above_it():
    assert upward_imports() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "from app.sla.escalation import sweep",
            {"app.sla.escalation", "app.sla.escalation.sweep"},
        ),
        ("def f():\n    from app.stats import jobs\n", {"app.stats", "app.stats.jobs"}),
        ("import app.reports.deadlines", {"app.reports.deadlines"}),
    ],
)
def test_imports_are_found_wherever_they_are(source, expected):
    assert imported_modules(source) == expected


def test_an_upward_import_inside_a_function_is_caught(tmp_path, monkeypatch):
    folder = tmp_path / "app" / "workdays"
    folder.mkdir(parents=True)
    (folder / "service.py").write_text(
        "def load():\n    from app.reports.deadlines import recompute_open_deadlines\n"
    )
    monkeypatch.setattr(f"{__name__}.APP", tmp_path / "app")

    assert upward_imports() == [
        "app/workdays/service.py imports app.reports.deadlines",
        "app/workdays/service.py imports app.reports.deadlines.recompute_open_deadlines",
    ]


def test_no_test_module_imports_another():
    """What tests share lives in conftest.py or a helper module, never in another test file."""
    tests = Path(__file__).resolve().parent
    found = [
        f"{path.relative_to(tests.parent)} imports {module}"
        for path in sorted(tests.rglob("test_*.py"))
        for module in sorted(imported_modules(path.read_text(encoding="utf-8")))
        if module.startswith("tests.") and module.split(".")[-1].startswith("test_")
    ]
    assert found == []
