# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the app icon (resources/icons/org.fieldcoord.Fieldcoord.svg) as the PNG sizes a
Linux desktop looks for: packaging/linux/icons/hicolor/<N>x<N>/apps/<app id>.png.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/linux/render_icons.py
"""
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

APP_ID = "org.fieldcoord.Fieldcoord"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ROOT = Path(__file__).resolve().parents[2]
SVG = ROOT / "resources" / "icons" / f"{APP_ID}.svg"
OUT = ROOT / "packaging" / "linux" / "icons" / "hicolor"


def render(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    return image


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv)
    for size in SIZES:
        path = OUT / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not render(size).save(str(path), "PNG"):
            print(f"could not write {path}", file=sys.stderr)
            return 1
    scalable = OUT / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(SVG.read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
