"""docs/errors.md lists every error code the service raises, with its status, and no other."""

import ast
import re
from pathlib import Path

import app.directory.importer
import app.errors

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (\d{3}) \|", re.MULTILINE)


def error_classes() -> dict[str, type[app.errors.AppError]]:
    classes = {}
    for module in (app.errors, app.directory.importer):
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, app.errors.AppError):
                classes[name] = value
    return classes


def raised_codes() -> tuple[dict[str, int], list[str]]:
    """Every code given to an error class in app/ with its status, and the calls that lack one."""
    classes = error_classes()
    codes: dict[str, int] = {}
    problems: list[str] = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id in classes for base in node.bases
            ):
                # A subclass with its own code (ImportFailed) raises that code.
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and statement.targets[0].id == "code"
                        and path.name != "errors.py"
                    ):
                        codes[statement.value.value] = classes[node.name].status_code
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            kind = classes.get(node.func.id)
            if kind is None:
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if "code" in keywords:
                codes[keywords["code"].value] = kind.status_code
            elif kind.code == app.errors.AppError.code or kind.code in BASE_CODES:
                problems.append(f"{where}: {node.func.id}(…) without code=")
            if "en" not in keywords and node.func.id != "ImportFailed":
                problems.append(f"{where}: {node.func.id}(…) without en=")
    return codes, problems


BASE_CODES = {cls.code for cls in app.errors.AppError.__subclasses__()}
# Rendered by a handler rather than raised: the body of a request that does not validate, and
# the answer to a database failure.
HANDLER_CODES = {"validation_error": 422, "database_error": 500}


def test_every_error_carries_a_code_and_an_english_message():
    _, problems = raised_codes()
    assert problems == []


def test_docs_errors_lists_every_code_raised_and_no_other():
    codes, _ = raised_codes()
    source = "".join((ROOT / "app" / name).read_text("utf-8") for name in ("errors.py", "db.py"))
    assert all(f'"{code}"' in source for code in HANDLER_CODES)
    codes |= HANDLER_CODES
    documented = {code: int(status) for code, status in ROW.findall(DOC.read_text("utf-8"))}

    assert {c: s for c, s in codes.items() if c not in documented} == {}, "missing from the doc"
    assert {c: s for c, s in documented.items() if c not in codes} == {}, "no longer raised"
    assert documented == codes
