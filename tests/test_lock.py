"""requirements.lock and requirements-dev.lock agree with pyproject.toml (`make lock` fixes it)."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    return {
        canonicalize_name(name): version
        for name, version in PIN.findall((ROOT / lock).read_text(encoding="utf-8"))
    }


def requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += project["optional-dependencies"][extra]
    return [Requirement(line) for line in listed]


def disagreements(lock: str, wanted: list[Requirement]) -> list[str]:
    locked = pins(lock)
    found = []
    for requirement in wanted:
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            found.append(f"{requirement} is not in {lock}")
        elif not requirement.specifier.contains(version, prereleases=True):
            found.append(f"{requirement} but {lock} pins {version}")
    return found


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))]
)
def test_every_dependency_is_pinned_at_a_version_pyproject_allows(lock, extras):
    assert disagreements(lock, requirements(*extras)) == [], "run `make lock`"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_carries_its_hashes(lock):
    text = (ROOT / lock).read_text(encoding="utf-8")
    for block in re.split(r"\n(?=\S)", text):
        if PIN.match(block):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_a_dependency_missing_from_the_lock_or_out_of_range_is_reported():
    wanted = [Requirement("fastapi>=999"), Requirement("no-such-package>=1.1")]

    assert disagreements("requirements.lock", wanted) == [
        f"fastapi>=999 but requirements.lock pins {pins('requirements.lock')['fastapi']}",
        "no-such-package>=1.1 is not in requirements.lock",
    ]
