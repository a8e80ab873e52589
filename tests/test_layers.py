# SPDX-License-Identifier: GPL-3.0-or-later
"""The layers hold: the core stays free of Qt (only fieldcoord.ui and the app entry import
PySide6 or pyqtgraph, checked by importing every other module), and every import, module-level
or lazy, keeps to what its layer may use (checked on the source)."""
import subprocess
import sys

CHECK = """
import importlib, sys
from pathlib import Path
import fieldcoord
root = Path(fieldcoord.__file__).parent
# every module by its file, without importing the UI's packages to walk them
names = sorted("fieldcoord." + ".".join(p.relative_to(root).with_suffix("").parts)
               .removesuffix(".__init__") for p in root.rglob("*.py"))
names = [n for n in names
         if not n.startswith(('fieldcoord.ui', 'fieldcoord.app', 'fieldcoord.__main__'))]
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph')))
print(len(names), bad)
sys.exit(1 if bad or len(names) < 10 else 0)
"""


def test_core_layers_do_not_import_qt():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ every import, by layer
# What each layer of fieldcoord may import of the others (docs: README, "Layout"). Qt (PySide6,
# pyqtgraph) only in the UI and the app's entry. Within the UI, fieldcoord.ui.paper (the PDF
# painter of ICS forms and tables, needing no window) is a layer of its own: it uses nothing else
# of the UI, and the command line (`fieldcoord print`) may use it, inside that command only, so
# no other command starts Qt.
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "demo": {"core", "store"},
    "interop": {"core", "store"},
    "ui.paper": {"core", "interop", "QT"},
    "sync": {"core", "store", "demo"},
    "hub": {"core", "store", "sync"},
    "ui": {"core", "store", "demo", "interop", "ui.paper", "sync", "fieldcoord", "QT"},
    "logs": {"core"},
    "cli": {"core", "store", "demo", "interop", "sync", "hub", "fieldcoord"},
    "cli_sync": {"core", "store", "demo", "sync", "hub", "fieldcoord"},
    "cli_interop": {"core", "store", "interop", "cli", "fieldcoord"},
    "app": {"core", "ui", "cli", "fieldcoord", "QT"},
    "__main__": {"cli"},
    "fieldcoord": set(),
}
LAZY_ONLY = {("cli_interop", "fieldcoord.ui.paper")}


def _imports(path, module: str):
    """(imported module, inside a function) for every import of a file, relative ones resolved."""
    import ast
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lazy = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef,
                                                            ast.AsyncFunctionDef))
            for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            yield name, id(node) in lazy


def _layer(name: str) -> str | None:
    if name.split(".")[0] in ("PySide6", "pyqtgraph"):
        return "QT"
    if name == "fieldcoord":
        return "fieldcoord"
    if name.startswith("fieldcoord.ui.paper"):
        return "ui.paper"
    if name.startswith("fieldcoord."):
        return name.split(".")[1]
    return None


def test_every_import_keeps_to_its_layer():
    from pathlib import Path

    import fieldcoord
    root = Path(fieldcoord.__file__).parent
    broken = []
    for path in sorted(root.rglob("*.py")):
        module = "fieldcoord." + ".".join(path.relative_to(root).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        layer = _layer(module) if module.count(".") else "fieldcoord"
        assert layer in ALLOWED, f"{module}: a layer the rules do not name"
        for name, lazy in _imports(path, module):
            target = _layer(name)
            if target is None or target == layer or target in ALLOWED[layer]:
                continue
            if (layer, name) in LAZY_ONLY and lazy:
                continue
            broken.append(f"{module} imports {name}" + (" at module level" if not lazy else ""))
    assert broken == [], "\n".join(broken)
