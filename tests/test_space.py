"""Runs tests/space_smoke.py (the app started as a Space starts it) under pytest. .ci/run also runs it with an
environment made of requirements.txt alone, and then sets SPACE_SMOKE_DONE=1 so it is not run twice."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(os.environ.get("SPACE_SMOKE_DONE") == "1", reason=".ci/run ran it with the runtime environment")
def test_the_app_as_a_space_starts_it():
    res = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "space_smoke.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    assert "space smoke test passed" in res.stdout
