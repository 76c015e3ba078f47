"""The Ray Data source of tag_corpus: one read task per input file, run on the driver's node."""
import functools
import os
from typing import Iterator, List

import pyarrow
from ray.data import Datasource, ReadTask
from ray.data.block import BlockMetadata

from .inputs import InputFile, read_records

ROWS = pyarrow.schema(
    [
        ("file", pyarrow.string()),
        ("line", pyarrow.int64()),
        ("text", pyarrow.string()),
        ("fields", pyarrow.string()),
        ("error", pyarrow.string()),
        ("excerpt", pyarrow.string()),
        ("end", pyarrow.bool_()),
    ]
)
BLOCK_ROWS = 1000


class RecordSource(Datasource):
    """The rows of `read_records` for each file, in blocks of BLOCK_ROWS.

    Its read tasks run on the node of the driver, so INPUT need only be on the machine that runs
    the command; the rows reach the tagging workers through Ray's object store.
    """

    def __init__(self, files: List[InputFile], max_chars: int) -> None:
        self.files = files
        self.max_chars = max_chars

    @property
    def supports_distributed_reads(self) -> bool:
        return False

    def estimate_inmemory_data_size(self) -> int:
        return sum(os.path.getsize(file.path) for file in self.files)

    def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None) -> List[ReadTask]:
        return [
            ReadTask(
                functools.partial(read_blocks, file, self.max_chars),
                BlockMetadata(num_rows=None, size_bytes=os.path.getsize(file.path), exec_stats=None,
                              input_files=[file.path]),
                schema=ROWS,
            )
            for file in self.files
        ]


def read_blocks(file: InputFile, max_chars: int) -> Iterator[pyarrow.Table]:
    """A file's rows as Arrow tables of BLOCK_ROWS rows (the last may be shorter)."""
    rows = []
    for row in read_records(file, max_chars):
        rows.append(row)
        if len(rows) == BLOCK_ROWS:
            yield pyarrow.Table.from_pylist(rows, schema=ROWS)
            rows = []
    if rows:
        yield pyarrow.Table.from_pylist(rows, schema=ROWS)
