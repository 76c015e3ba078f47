"""The fork hook: a child forked from a process that tagged on several torch threads gets one
torch thread, and tags (without the hook it would hang in its first parallel kernel)."""
import json
import subprocess
import sys

from conftest import ROOT

SCRIPT = """
import json, os, torch
torch.set_num_threads(2)
from conftest import train_tutorial_tagger
nlp = train_tutorial_tagger(steps=5)
parent_tags = [t.tag_ for t in nlp("The dog ate the apple")]
pid = os.fork()
if pid == 0:
    child_tags = [t.tag_ for t in nlp("The dog ate the apple")]
    print(json.dumps([torch.get_num_threads(), child_tags == parent_tags]), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_child_gets_one_thread_and_tags():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT / "tests", capture_output=True, text=True,
                            timeout=300, env={"OMP_NUM_THREADS": "2", "PATH": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [1, True]  # one thread, and the parent's tags
