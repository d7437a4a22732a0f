"""scripts/smoke.py, the release smoke suite each built wheel runs on its own platform
(scripts/build-wheels --smoke, scripts/smoke-aarch64, .github/workflows/wheels.yml), passes
here too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SMOKE = Path(__file__).resolve().parent.parent / "scripts" / "smoke.py"


def test_the_release_smoke_suite_passes_on_the_installed_wheel():
    run = subprocess.run([sys.executable, str(SMOKE)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "smoke: 6 passed, 0 failed"
