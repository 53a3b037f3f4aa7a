"""``python -m merge_https_redirects.chart``: regenerate the committed default chart."""

from __future__ import annotations

import sys
from pathlib import Path

from merge_https_redirects.chart.generator import regenerate_default

_root = Path(__file__).resolve().parents[3]
if not (_root / "pyproject.toml").is_file():
    sys.exit(f"{_root} is not the source tree: run this from a checkout")
for _path in regenerate_default(_root):
    print(_path.relative_to(_root))
