"""The canonical annotation table, its schema, its readers and the validation boundary.

``read_annotations`` reads plain tables; platform readers (``labelaudit.io``) and other
sources build :class:`RawColumns` and go through the same :func:`encode` boundary.
"""

from labelaudit.table._encode import (
    NUMBER_PATTERN,
    Locator,
    RawColumns,
    as_text,
    encode,
    natural_order,
)
from labelaudit.table._load import file_locator
from labelaudit.table.content import content_sha256
from labelaudit.table.readers import (
    FORMATS,
    format_of,
    from_dataframe,
    load_source,
    raw_columns,
    read_annotations,
    split_names,
)
from labelaudit.table.schema import ANNOTATOR_KINDS, TASKS, TaskSchema
from labelaudit.table.table import AnnotationTable, code_counts, code_type, narrow_codes

__all__ = [
    "ANNOTATOR_KINDS",
    "FORMATS",
    "NUMBER_PATTERN",
    "TASKS",
    "AnnotationTable",
    "Locator",
    "RawColumns",
    "TaskSchema",
    "as_text",
    "code_counts",
    "code_type",
    "content_sha256",
    "encode",
    "file_locator",
    "format_of",
    "from_dataframe",
    "load_source",
    "narrow_codes",
    "natural_order",
    "raw_columns",
    "read_annotations",
    "split_names",
]
