"""python -m spacy_lstm_tagger.tag_corpus MODEL INPUT OUTPUT_DIR [options]: tag a corpus with Ray Data."""
import argparse
import sys
from typing import List, Optional

from .inputs import DEFAULT_MAX_CHARS, TagCorpusError
from .job import tag_corpus


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m spacy_lstm_tagger.tag_corpus",
        description="Tag every record of INPUT with the pipeline MODEL into OUTPUT_DIR, on a local Ray "
                    "instance or a Ray cluster. Records that cannot be tagged go to errors files, with the reason.",
    )
    parser.add_argument("model", help="a pipeline directory, or an installed package name")
    parser.add_argument("input", help="a file, folder or glob of JSONL (a text field), plain text "
                                      "(one record a line) or Parquet (a text column)")
    parser.add_argument("output_dir", help="a new or empty folder (or, with --resume, an earlier run's)")
    parser.add_argument("--workers", type=int, default=1, help="tagging actors, one CPU each (default 1)")
    parser.add_argument("--batch-size", type=int, default=256, help="records per batch (default 256)")
    parser.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per actor (default 0)")
    parser.add_argument("--address", help="the Ray cluster to join (default: RAY_ADDRESS, else a local instance)")
    parser.add_argument("--probabilities", action="store_true", help="also write tag_probs")
    parser.add_argument("--output-format", choices=["jsonl", "parquet"], default="jsonl")
    parser.add_argument("--input-format", choices=["auto", "jsonl", "text", "parquet"], default="auto",
                        help="default: by suffix (.jsonl .ndjson .json, .parquet, anything else text)")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS,
                        help=f"longer texts are errors (default {DEFAULT_MAX_CHARS:,})")
    parser.add_argument("--resume", action="store_true",
                        help="OUTPUT_DIR is an earlier run's: skip its finished files, tag the rest")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        summary = tag_corpus(
            args.model, args.input, args.output_dir, workers=args.workers, batch_size=args.batch_size,
            gpus_per_worker=args.gpus_per_worker, address=args.address, probabilities=args.probabilities,
            output_format=args.output_format, input_format=args.input_format, max_chars=args.max_chars,
            resume=args.resume,
        )
    except TagCorpusError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
