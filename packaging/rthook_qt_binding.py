"""PyInstaller runtime hook: pyqtgraph uses PySide6, the one Qt binding in the bundle, without probing for others."""

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
