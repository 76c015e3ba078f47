"""Run spaCy's `test_overfitting_IO` against lstm_tagger under many seeds.

The test is loaded as tests/pipeline/test_spacy_tagger_suite.py loads it (spaCy's own file,
factory name swapped). Each run calls `spacy.util.fix_random_seed(seed)` first, and prints
whether it passed, the loss after its 50th update (the test wants it below 1e-5) and the first
failed assertion's line. `--set name=value` overrides a model setting of the test's
`lstm_tagger` (the value is read as JSON, else kept as a string).

    .venv/bin/python scripts/overfitting_seeds.py [--seeds 40] [--set name=value]
"""
import argparse
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path

from spacy.language import Language
from spacy.util import fix_random_seed

SUITE_FILE = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "test_spacy_tagger_suite.py"
OVERFIT_UPDATES = 50  # the test's updates on TRAIN_DATA before it checks the loss


def load_test():
    """spaCy's test_overfitting_IO, through the suite module's `load_suite`."""
    spec = importlib.util.spec_from_file_location("spacy_tagger_suite", SUITE_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_suite()["test_overfitting_IO"]


def patch_language(losses: list, model_overrides: dict) -> None:
    """Record lstm_tagger's loss after every `nlp.update`, and add `model_overrides` to the
    config of every lstm_tagger that `add_pipe` creates."""
    update, add_pipe = Language.update, Language.add_pipe

    def recording_update(self, *args, **kwargs):
        result = update(self, *args, **kwargs)
        if kwargs.get("losses") is not None:
            losses.append(kwargs["losses"].get("lstm_tagger"))
        return result

    def configured_add_pipe(self, factory_name, *args, config=None, **kwargs):
        config = dict(config or {})
        if factory_name == "lstm_tagger" and model_overrides:
            config["model"] = {**config.get("model", {}), **model_overrides}
        return add_pipe(self, factory_name, *args, config=config, **kwargs)

    Language.update, Language.add_pipe = recording_update, configured_add_pipe


def parse_overrides(pairs) -> dict:
    """{name: value} from `--set name=value` pairs (values as JSON where they parse)."""
    overrides = {}
    for pair in pairs or []:
        name, value = pair.split("=", 1)
        try:
            overrides[name] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name] = value
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="run seeds 0..N-1")
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="a model setting")
    args = parser.parse_args()
    test, losses = load_test(), []
    patch_language(losses, parse_overrides(args.set))
    passed, seeds = 0, range(args.first, args.first + args.seeds)
    for seed in seeds:
        losses.clear()
        fix_random_seed(seed)
        start, failure = time.time(), ""
        try:
            test()
        except AssertionError:
            frame = traceback.extract_tb(sys.exc_info()[2])[-1]
            failure = f"line {frame.lineno} of spaCy's test_tagger.py: {frame.line}"
        final = losses[OVERFIT_UPDATES - 1] if len(losses) >= OVERFIT_UPDATES else float("nan")
        passed += not failure
        print(f"seed {seed:3d}  {'pass' if not failure else 'FAIL'}  loss@{OVERFIT_UPDATES} {final:.3e}"
              f"  {time.time() - start:4.1f}s  {failure}", flush=True)
    print(f"passed {passed} of {len(seeds)}")


if __name__ == "__main__":
    main()
