"""The cdk8s app: `cdk8s synth` runs this file (see cdk8s.yaml).

`cdk8s synth` deletes its output folder before it runs the app, so that folder is a scratch
folder (`.cdk8s.out/`), never `dist/`. The app compiles `environments/` and swaps the result into
`dist/` atomically, exactly as `sophia synth` does; it then copies the manifests into the
scratch folder so that cdk8s can list them (and run validation plugins, if any are configured).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

if __name__ == "__main__":
    from sophia.runtime import short_lived

    with short_lived():
        from sophia.cdk8s_app import run

        sys.exit(run(HERE / "environments", HERE / "dist", os.environ.get("CDK8S_OUTDIR")))
