"""Desktop app entry point (placeholder window until the GUI issue lands)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([sys.argv[0]])
    label = QLabel("Clearance — drag files here (the full app arrives with the GUI issue)")
    label.resize(520, 200)
    label.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
