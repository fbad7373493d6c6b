"""Renders resources/tradebridge.svg into each platform's icon files under packaging/icons/ (run with Qt).

Windows gets a multi-size ``.ico``, macOS a ``.icns``, Linux a PNG per hicolor size. Every image is
drawn by Qt's SVG renderer at its exact size (no scaling of a bitmap), and both containers hold PNG
payloads, which Windows Vista+ and macOS 10.7+ read natively. The outputs are committed; run this
again (``make icons``) only when the SVG changes.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "tradebridge.svg"
OUT = ROOT / "packaging" / "icons"

LINUX_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
#: ICNS element types holding PNG data, by pixel size (the @2x types reuse the doubled size).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"Qt could not encode a {size}px PNG")
    return bytes(data.data())


def ico_bytes(images: dict[int, bytes]) -> bytes:
    """An ICO file: header, one directory entry per size, then the PNG payloads."""
    sizes = sorted(images)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, payloads = b"", b""
    for size in sizes:
        png = images[size]
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        payloads += png
        offset += len(png)
    return header + entries + payloads


def icns_bytes(images: dict[int, bytes]) -> bytes:
    """An ICNS file: 'icns' + total length, then (type, length, PNG) elements."""
    body = b""
    for kind, size in ICNS_TYPES:
        png = images[size * 2] if kind in (b"ic11", b"ic12", b"ic13", b"ic14") else images[size]
        body += kind + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"{SOURCE} is not a valid SVG", file=sys.stderr)
        return 1
    sizes = sorted(set(LINUX_SIZES) | set(ICO_SIZES) | {size for _kind, size in ICNS_TYPES} | {1024})
    images = {size: render_png(renderer, size) for size in sizes}
    linux = OUT / "linux"
    linux.mkdir(parents=True, exist_ok=True)
    for size in LINUX_SIZES:
        (linux / f"tradebridge-{size}.png").write_bytes(images[size])
    (OUT / "tradebridge.ico").write_bytes(ico_bytes({size: images[size] for size in ICO_SIZES}))
    (OUT / "tradebridge.icns").write_bytes(icns_bytes(images))
    print(f"Icons written to {OUT.relative_to(ROOT)}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
