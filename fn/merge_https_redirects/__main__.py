"""``python -m merge_https_redirects``."""

import sys

from merge_https_redirects.cli import main

sys.exit(main())
