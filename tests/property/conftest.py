"""Hypothesis profiles for the property and fuzz suites.

- ``default``: bounded so ``tests/property`` runs in well under a minute (every developer run).
- ``fuzz``: the CI fuzz job (``HYPOTHESIS_PROFILE=fuzz``): many more examples, still bounded
  because every example is cheap; ``MHR_FUZZ_EXAMPLES`` overrides the count.

Deadlines are off: a slow example on a loaded CI machine is not a failure, a wrong one is.
In CI (``CI=true``) the examples are derandomized: a submission is judged on the same examples
every time (a red CI must mean the change broke something); developer runs and the ``fuzz``
profile explore new examples, and what they find becomes an explicit ``@example``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": os.environ.get("CI") == "true",
    "print_blob": True,
}

settings.register_profile("default", max_examples=60, **_COMMON)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("MHR_FUZZ_EXAMPLES", "5000")), **_COMMON
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
