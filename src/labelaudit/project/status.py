"""``status``: the batches of a project and the rejected rows kept in its store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labelaudit.project.layout import Project
from labelaudit.project.store import BatchRecord
from labelaudit.results import Displayable

__all__ = ["StatusReport", "project_status"]


@dataclass(frozen=True)
class StatusReport(Displayable):
    """What a project holds. ``to_dict()`` is the ``status --format json`` contract.

    Attributes
    ----------
    root, name : str
        Project folder and name.
    config_sha256 : str
        Hash of the current configuration.
    schema_version : int
        Last migration applied to the store.
    batches : list of BatchRecord
        In history order.
    rejected_rows : int
        Rejected input rows kept in the store (all batches).
    rejects : list of dict
        The first ``limit`` rejected-row problems, each naming its batch.
    """

    root: str
    name: str
    config_sha256: str
    schema_version: int
    batches: list[BatchRecord]
    rejected_rows: int
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def to_document(self) -> Any:
        """The batches and rejected rows as a document (paths relative to the working folder)."""
        from labelaudit.project.documents import status_document

        return status_document(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """``{"project": {"root", "name", "config_sha256", "schema_version"},
        "batches": [{"name", "n_annotations", "n_items", "n_annotators", "n_rejected",
        "ingested_at", "sha256", "source"}], "n_annotations", "rejected_rows",
        "rejects": [{"batch", "source", "line", "unit", "field", "problem", "expected",
        "actual", "item", "annotator", "label"}]}``."""
        return {
            "project": {
                "root": self.root,
                "name": self.name,
                "config_sha256": self.config_sha256,
                "schema_version": self.schema_version,
            },
            "batches": [batch.to_dict() for batch in self.batches],
            "n_annotations": sum(batch.n_annotations for batch in self.batches),
            "rejected_rows": self.rejected_rows,
            "rejects": self.rejects,
        }


def project_status(project: Project, *, limit: int = 20) -> StatusReport:
    """Batches, rejected-row count and the first ``limit`` rejects of a project.

    Parameters
    ----------
    project : Project
    limit : int
        How many rejected-row problems to list.

    Returns
    -------
    StatusReport
    """
    with project.open_store(read_only=True) as store:
        migrations = store.migrations()
        batches = store.batches()
        rejected = store.rejected_count()
        rejects = store.rejects(limit=limit)
    for reject in rejects:
        reject.pop("entry")
    return StatusReport(
        root=str(project.root),
        name=project.config.name,
        config_sha256=project.config.sha256,
        schema_version=max(m["version"] for m in migrations),
        batches=batches,
        rejected_rows=rejected,
        rejects=rejects,
    )
