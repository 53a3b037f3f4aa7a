#!/usr/bin/env python3
"""A no-op exec KRM function: copies the ResourceList from stdin to stdout unchanged.

Plain byte passthrough, no YAML parsing, so that in a ``kpt fn render`` comparison it costs only
an interpreter start-up and a copy: the render time with it is kpt's own cost for the package.
"""

import shutil
import sys

if __name__ == "__main__":
    shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer, 1 << 20)
