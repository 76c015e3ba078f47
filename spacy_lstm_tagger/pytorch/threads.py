"""One torch thread in every process forked after this package is imported."""
import os

import torch


def _one_thread_in_child() -> None:
    """In every child forked from a process that imported this module: one torch thread.

    A forked child (a worker of `nlp.pipe(n_process=2)`, of gunicorn or of Celery) hangs in its
    first parallel CPU kernel if its parent had started torch's OpenMP thread pool, which any
    multi-threaded torch operation does (initializing or loading a model, tagging): the child
    inherits the pool without its threads. One thread each is also what several worker
    processes want. docs/troubleshooting.md says how to undo it.
    """
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=_one_thread_in_child)
