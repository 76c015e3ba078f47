"""The README's quickstart runs as written and prints what the README says it prints."""
import ast
import re
import subprocess
import sys

from conftest import ROOT


def quickstart_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_quickstart_prints_what_the_readme_says():
    """In a fresh process, as a user would run it."""
    code = quickstart_block()
    expected = ast.literal_eval(re.search(r"^# (\[.*\])$", code, re.M).group(1))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ast.literal_eval(result.stdout.strip()) == expected
