"""Where the tests find the app, the shipped examples and their own data files, wherever a test module sits."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")
EXAMPLES = ROOT / "examples"
TEST_DATA = Path(__file__).resolve().parent / "data"
BAD_FILES = TEST_DATA / "bad"
