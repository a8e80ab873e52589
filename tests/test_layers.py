# SPDX-License-Identifier: GPL-3.0-or-later
"""The core stays free of Qt: only fieldcoord.ui and the app entry import PySide6 or pyqtgraph."""
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
