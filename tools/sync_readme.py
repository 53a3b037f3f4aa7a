"""Rewrite the README's generated tables (FunctionConfig fields, finding IDs) from the code.

The test suite fails when they drift (tests/unit/test_repo_hygiene.py); run this to fix it:
``.venv/bin/python tools/sync_readme.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from merge_https_redirects.config import reference_markdown
from merge_https_redirects.rules import rules_table


def main() -> int:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    for header, table in (("| field | type |", reference_markdown()),
                          ("| ID | name |", rules_table())):
        pattern = re.compile(rf"^{re.escape(header)}.*?(?=\n\n|\Z)", re.M | re.S)
        text, count = pattern.subn(lambda _m, t=table: t, text, count=1)
        if count != 1:
            print(f"README has no table starting with {header!r}", file=sys.stderr)
            return 1
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
