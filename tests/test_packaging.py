# SPDX-License-Identifier: GPL-3.0-or-later
"""What an installed fieldcoord holds: every package, its data, one version."""
import tomllib
from pathlib import Path

import fieldcoord

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_and_the_shipped_data_are_installed():
    setup = _pyproject()["tool"]["setuptools"]
    packages = {".".join(p.relative_to(ROOT).parts[:-1])
                for p in (ROOT / "fieldcoord").rglob("__init__.py")}
    data_folders = {"fieldcoord.resources", "fieldcoord.resources.demo",
                    "fieldcoord.resources.icons", "fieldcoord.store.schema"}
    assert packages | data_folders == set(setup["packages"])
    assert setup["package-dir"]["fieldcoord.resources"] == "resources"
    import fnmatch
    globs = setup["package-data"]
    where = {"fieldcoord.resources": ROOT / "resources",
             "fieldcoord.resources.demo": ROOT / "resources" / "demo",
             "fieldcoord.resources.icons": ROOT / "resources" / "icons",
             "fieldcoord.store.schema": ROOT / "fieldcoord" / "store" / "schema"}
    for package, folder in where.items():
        shipped = [p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".py"]
        missing = [n for n in shipped if not any(fnmatch.fnmatch(n, g) for g in globs[package])]
        assert shipped and missing == [], f"{package}: not installed: {missing}"


def test_the_version_comes_from_pyproject():
    assert fieldcoord.__version__ == _pyproject()["project"]["version"]


def test_no_dependency_is_declared_and_unused():
    import re
    deps = [re.split(r"[<>=!~ \[]", d)[0].lower().replace("-", "_")
            for d in _pyproject()["project"]["dependencies"]]
    modules = {"pyside6_essentials": "PySide6", "sqlite_utils": "sqlite_utils",
               "pynacl": "nacl"}
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "fieldcoord").rglob("*.py"))
    unused = [d for d in deps
              if not re.search(rf"^\s*(from|import) {modules.get(d, d)}\b", code, re.M)]
    assert unused == [], f"declared and never imported: {unused}"
