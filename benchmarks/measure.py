"""One measurement in a fresh process: `python measure.py JOB '{json args}'` prints a JSON line.

The parent (common.measure) sets the thread environment; `threads` also goes to torch here.
"""
import json
import statistics
import sys
import threading
import time
from itertools import chain, cycle, islice
from pathlib import Path
from typing import Optional

import psutil
import spacy
from spacy.tokens import Doc
from spacy.vocab import Vocab
import torch

from common import TRAIN, gold_docs, word_doc


def load(model: str, gpu: bool = False, config: Optional[dict] = None):
    """Load a pipeline, on the GPU if asked (spacy.require_gpu before spacy.load), with `config`
    overrides such as {"components.lstm_tagger.model.mixed_precision": true}."""
    if gpu:
        spacy.require_gpu()
    return spacy.load(model, config=config or {})


def predict(model: str, **_):
    """The predicted tags of the gold-word dev Docs."""
    nlp = load(model)
    return [[t.tag_ for t in doc] for doc in nlp.pipe(gold_docs(nlp.vocab)[0])]


def tag_speed(model: str, repeats: int, batch_size: int = 0, passes: int = 1, gpu: bool = False,
              profile: int = 0, config: Optional[dict] = None, **_):
    """Words/s of nlp.pipe over fresh gold-word dev Docs (`passes` copies per run), per run.
    `config`: overrides for spacy.load. With `profile`, one more run under cProfile prints its
    top functions to stderr."""
    nlp = load(model, gpu, config)
    words = _dev_sentences(nlp.vocab) * passes
    batch_size = batch_size or nlp.batch_size
    results = []
    for run in range(repeats + 1):  # run 0 warms up
        docs = list(_make_docs(nlp.vocab, words))
        start = time.perf_counter()
        for _ in nlp.pipe(docs, batch_size=batch_size):
            pass
        if run:
            results.append(sum(len(doc) for doc in docs) / (time.perf_counter() - start))
    if profile:
        docs = list(_make_docs(nlp.vocab, words))
        _profile(lambda: [None for _ in nlp.pipe(docs, batch_size=batch_size)], profile)
    return {"words_per_second": results, "median": statistics.median(results), "batch_size": batch_size}


def latency(model: str, n_docs: int, batch_sizes, config: Optional[dict] = None, seen_types: int = 0, **_):
    """Each of the first `n_docs` gold-word dev Docs tagged alone with nlp(doc): the median and
    99th percentile of the times (ms) and the words/s; then words/s of nlp.pipe over the same
    Docs at each batch size. Each pass loads the pipeline afresh, so that no pass finds the
    words of the one before in a cache, and warms it up on 50 other dev Docs; before that,
    `seen_types` made-up words are tagged, 1,000 to a Doc. The tags of every pass, as SHA-1s."""
    import hashlib
    import random

    rng = random.Random(0)
    made_up = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 10))) for _ in range(seen_types)]

    def fresh_pipeline():
        nlp = load(model, config=config)
        for start in range(0, seen_types, 1000):
            nlp(Doc(nlp.vocab, words=made_up[start : start + 1000]))
        for doc in _make_docs(nlp.vocab, warm_up):
            nlp(doc)
        return nlp

    sentences = _dev_sentences(Vocab())
    sentences, warm_up = sentences[:n_docs], sentences[n_docs : n_docs + 50]
    nlp = fresh_pipeline()

    def digest(docs) -> str:
        return hashlib.sha1("\n".join(" ".join(t.tag_ for t in doc) for doc in docs).encode()).hexdigest()

    docs, seconds = list(_make_docs(nlp.vocab, sentences)), []
    for doc in docs:
        start = time.perf_counter()
        nlp(doc)
        seconds.append(time.perf_counter() - start)
    n_words = sum(map(len, sentences))
    ordered = sorted(seconds)
    result = {
        "n_docs": len(docs), "n_words": n_words,
        "median_ms": 1000 * statistics.median(seconds),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "words_per_second": {"1": n_words / sum(seconds)}, "tags": {"1": digest(docs)},
    }
    for batch_size in batch_sizes:
        if batch_size == 1:
            continue
        nlp = fresh_pipeline()
        docs = list(_make_docs(nlp.vocab, sentences))
        start = time.perf_counter()
        tagged = list(nlp.pipe(docs, batch_size=batch_size))
        result["words_per_second"][str(batch_size)] = n_words / (time.perf_counter() - start)
        result["tags"][str(batch_size)] = digest(tagged)
    return result


def stream_memory(model: str, tokens: int, **_):
    """RSS (MB) while nlp.pipe tags a stream of `tokens` tokens of fresh dev Docs."""
    nlp = load(model)
    words = _dev_sentences(nlp.vocab)
    process = psutil.Process()
    baseline = _rss(process)
    checkpoint, done, at_checkpoint = tokens // 10, 0, None
    with _PeakSampler(process) as sampler:
        for doc in nlp.pipe(_make_docs(nlp.vocab, _take_tokens(cycle(words), tokens))):
            done += len(doc)
            if at_checkpoint is None and done >= checkpoint:
                at_checkpoint = _rss(process)
    return {
        "tokens": done,
        "checkpoint_tokens": checkpoint,
        "baseline_mb": baseline,
        "checkpoint_mb": at_checkpoint,
        "end_mb": _rss(process),
        "peak_mb": sampler.peak,
    }


def long_doc(model: str, sizes, repeats: int, **_):
    """Seconds (median) and accuracy of tagging one Doc of each size made of dev sentences."""
    nlp = load(model)
    docs, gold = gold_docs(nlp.vocab)
    words = [(t.text, bool(t.whitespace_)) for doc in docs for t in doc]
    tags = [tag for doc_tags in gold for tag in doc_tags]
    process = psutil.Process()
    nlp(next(_make_docs(nlp.vocab, [words[:1000]])))  # warm-up
    results = {}
    for size in sizes:
        seconds, before = [], _rss(process)
        with _PeakSampler(process) as sampler:
            for _ in range(repeats):
                (doc,) = _make_docs(nlp.vocab, [list(islice(cycle(words), size))])
                start = time.perf_counter()
                doc = nlp(doc)
                seconds.append(time.perf_counter() - start)
        gold_tags = list(islice(cycle(tags), size))
        correct = sum(t.tag_ == g for t, g in zip(doc, gold_tags))
        results[str(size)] = {
            "seconds": statistics.median(seconds),
            "tag_acc": 100.0 * correct / size,
            "rss_before_mb": before,
            "peak_mb": sampler.peak,
        }
    return results


def train_speed(model: str, steps: int, repeats: int, batch_words: int, train_limit: int = 0,
                gpu: bool = False, through: str = "nlp", profile: int = 0, config: Optional[dict] = None, **_):
    """Training words/s on ~batch_words-word batches, for a pipeline built from model's config
    (with `config` overrides, as for spacy.load).

    through: "nlp" times `nlp.update` (what `spacy train` calls: it also copies every
    predicted Doc); "component" times the tagger's own `update`.
    With `profile`, one more run under cProfile prints its top functions to stderr.
    """
    from spacy.tokens import DocBin
    from spacy.training import Example
    from spacy.util import fix_random_seed, load_model_from_config

    if through not in ("nlp", "component"):
        raise ValueError(f"through must be 'nlp' or 'component', got {through!r}")
    if gpu:
        spacy.require_gpu()
    fix_random_seed(0)
    config = spacy.util.load_config(Path(model) / "config.cfg", overrides=config or {})
    nlp = load_model_from_config(config, auto_fill=True)
    dropout = config["training"]["dropout"]
    refs = islice(DocBin().from_disk(TRAIN).get_docs(nlp.vocab), train_limit or None)
    examples = [Example(word_doc(ref), ref) for ref in refs]
    optimizer = nlp.initialize(lambda: examples)
    update = nlp.update if through == "nlp" else nlp.get_pipe(nlp.pipe_names[-1]).update
    batches = cycle(_batches(examples, batch_words))
    for _ in range(3):  # warm-up
        update(next(batches), sgd=optimizer, drop=dropout)
    results = []
    for _ in range(repeats):
        chunk = list(islice(batches, steps))
        start = time.perf_counter()
        for batch in chunk:
            update(batch, sgd=optimizer, drop=dropout)
        results.append(sum(len(eg.reference) for batch in chunk for eg in batch) / (time.perf_counter() - start))
    if profile:
        chunk = list(islice(batches, steps))
        _profile(lambda: [update(batch, sgd=optimizer, drop=dropout) for batch in chunk], profile)
    return {"words_per_second": results, "median": statistics.median(results), "batch_words": batch_words,
            "through": through}


def _profile(run, top: int) -> None:
    """Run `run` under cProfile; print its `top` functions by own time to stderr."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(top)


def _dev_sentences(vocab):
    """Each dev sentence as (word, space after) pairs, to make fresh Docs from."""
    return [[(t.text, bool(t.whitespace_)) for t in doc] for doc in gold_docs(vocab)[0]]


def _batches(examples, batch_words: int):
    batch, size = [], 0
    for eg in examples:
        batch.append(eg)
        size += len(eg.reference)
        if size >= batch_words:
            yield batch
            batch, size = [], 0


def _take_tokens(sentences, tokens: int):
    total = 0
    for sentence in sentences:
        if total >= tokens:
            return
        total += len(sentence)
        yield sentence


def _make_docs(vocab, sentences):
    for sentence in sentences:
        words, spaces = zip(*sentence) if sentence else ((), ())
        yield Doc(vocab, words=list(words), spaces=list(spaces))


def _rss(process) -> float:
    return process.memory_info().rss / 1e6


class _PeakSampler:
    """Samples RSS every 20 ms in a thread; `peak` is the highest seen (MB)."""

    def __init__(self, process):
        self.process, self.peak, self._stop = process, _rss(process), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss(self.process))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss(self.process))


def new_text_speed(model: str, files, warm_docs: int, max_docs: int, batch_size: int,
                   config: Optional[dict] = None, **_):
    """Words/s of nlp.pipe over raw text the pipeline has not tagged before: the `text` of each
    line of the JSONL `files`, in order, split by the pipeline's tokenizer; the first `warm_docs`
    texts warm it up (untimed), the next ones, up to `max_docs` in all, are timed."""
    nlp = load(model, config=config)
    lines = chain.from_iterable(open(name, encoding="utf8") for name in files)
    texts = [json.loads(line)["text"] for line in islice(lines, max_docs)]
    docs = [nlp.make_doc(text) for text in texts]
    for _ in nlp.pipe(docs[:warm_docs], batch_size=batch_size):
        pass
    timed = docs[warm_docs:]
    start = time.perf_counter()
    for _ in nlp.pipe(timed, batch_size=batch_size):
        pass
    n_words = sum(len(doc) for doc in timed)
    return {"words_per_second": n_words / (time.perf_counter() - start), "n_words": n_words, "n_docs": len(timed)}


def multiply_adds(model: str, **_):
    """The multiply-adds per token of a pipeline's tagger, as it tags on a CPU in float32."""
    nlp = load(model)
    if "lstm_tagger" in nlp.pipe_names:
        return _lstm_tagger_multiply_adds(nlp.get_pipe("lstm_tagger").model.get_ref("network").shims[0].module)
    # spaCy's tagger (and the tok2vec it listens to, if any): each weight matrix (Maxout,
    # Softmax) multiplies once per token; its hash embeddings are look-ups.
    return {"matrices": sum(node.get_param("W").size for name in ("tok2vec", "tagger") if name in nlp.pipe_names
                            for node in nlp.get_pipe(name).model.walk() if node.has_param("W"))}


def _lstm_tagger_multiply_adds(network) -> dict:
    """Per token, on the CPU float32 tagging paths: the first layer's input gates are the sum of
    table rows (gate_tables.py) plus the character CNN's product; every other product counts."""
    lstm = network.lstm
    directions, hidden = 2 if lstm.bidirectional else 1, lstm.hidden_size
    gates = directions * 4 * hidden
    counts = {
        "recurrent": lstm.num_layers * directions * hidden * 4 * hidden,
        "later_layers_input": (lstm.num_layers - 1) * directions * hidden * gates,
        "output": network.output.weight.numel(),
    }
    if network.chars is not None:
        window = network.chars.window
        counts["character_cnn"] = network.columns.n_chars * window.weight.numel() + window.out_features * gates
    return counts


def matmul_rate(size: int = 1024, repeats: int = 20, **_):
    """Multiply-adds per second of a float32 (size x size) @ (size x size) torch product: what
    this CPU's matrix kernels reach at the thread setting, an upper bound for any model here."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return {"multiply_adds_per_second": repeats * size**3 / (time.perf_counter() - start)}


JOBS = {job.__name__: job for job in (predict, tag_speed, latency, stream_memory, long_doc, train_speed,
                                      new_text_speed, multiply_adds, matmul_rate)}

if __name__ == "__main__":
    job, args = sys.argv[1], json.loads(sys.argv[2])
    if args.get("threads"):
        torch.set_num_threads(args["threads"])
    print(json.dumps(JOBS[job](**args)))
