"""The canonical annotation table, its schema and its readers."""

from labelaudit.table.readers import FORMATS, from_dataframe, read_annotations
from labelaudit.table.schema import TaskSchema
from labelaudit.table.table import AnnotationTable

__all__ = ["FORMATS", "AnnotationTable", "TaskSchema", "from_dataframe", "read_annotations"]
