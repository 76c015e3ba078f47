"""The feature layer's per-word-type ids, kept between calls: a cache by LOWER value."""
from thinc.api import Model, deserialize_attr, serialize_attr

from ..pytorch.row_cache import RowCache


class TypeIdCache(RowCache):
    """The ids of the word types seen so far, by LOWER value, for one set of tables (the
    owner): a type's ids are made once, then found again (RowCache). Up to `max_types` types,
    then it starts again. It is not saved with the model."""

    def __init__(self, max_types: int = 200_000) -> None:
        super().__init__(max_types)


@serialize_attr.register(TypeIdCache)
def _serialize_cache(_: TypeIdCache, value: TypeIdCache, name: str, model: Model) -> bytes:
    return b""  # a cache: not saved


@deserialize_attr.register(TypeIdCache)
def _deserialize_cache(_: TypeIdCache, value: bytes, name: str, model: Model) -> TypeIdCache:
    return TypeIdCache()
