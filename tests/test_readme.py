"""The README's quickstart runs as written and prints what the README says it prints; every
command line in the README and docs/ names a real command."""
import ast
import re
import subprocess
import sys

from typer.main import get_command

from conftest import ROOT
from spacy_lstm_tagger.cli.commands import app

# `python -m spacy lstm-tagger WORD` or `python -m spacy_lstm_tagger WORD` (WORD a command name,
# not an option, `...` or the end of a code span); group 1 catches the old `spacy_lstm_tagger.X`.
COMMAND_LINE = re.compile(r"python -m (?:spacy lstm-tagger|spacy_lstm_tagger(\.\w+)?)(?: +([a-z][\w-]*))?")


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


def test_every_command_line_names_a_real_command():
    commands = set(get_command(app).commands)
    named, wrong = set(), []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, line in enumerate(page.read_text().splitlines(), start=1):
            for match in COMMAND_LINE.finditer(line):
                old_module, command = match.groups()
                named.add(command)
                if old_module or (command is not None and command not in commands):
                    wrong.append(f"{page.name}:{number}: {match.group(0)}")
    assert wrong == [], f"not one of {sorted(commands)}"
    assert commands <= named  # the pages name every command
