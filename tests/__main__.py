"""The whole suite, as CI and the README run it: `python -m tests [pytest options]`.

Two phases, one after the other: the tests that need no browser on every core (pytest-xdist), then the browser
tests (`-m browser`) one at a time. A browser test measures what a person sees; beside another worker's load it
would measure that load instead (tried: two browser tests failed within 30 s waits), and the load test's twenty
sessions must have the machine to themselves. Exit status: 0 when both phases pass, else the first failure's.
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    phases = [
        ["-m", "not browser", "-n", "auto"],  # every core
        ["-m", "browser"],  # one at a time
    ]
    status = 0
    for phase in phases:
        result = subprocess.run([sys.executable, "-m", "pytest", *phase, *argv], check=False)
        if result.returncode not in (0, 5):  # 5: nothing collected (e.g. a -k that selects no browser test)
            status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
