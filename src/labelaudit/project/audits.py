"""Preference and LLM-judge audits kept in the project store (migration 9).

``labelaudit preferences ... --project DIR`` and ``labelaudit judge audit ... --project DIR``
store the audit's JSON document (``PreferenceAudit.to_dict()`` / ``JudgeAudit.to_dict()``,
the contracts of ``docs/preferences.md`` and ``docs/judge.md``) in ``audit_results`` with a
run row, so ``labelaudit serve`` shows the project's audits. Storing the same document
twice (same kind, name and content) adds nothing. Every statement is constant SQL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from labelaudit.exceptions import NotFoundError, UsageError
from labelaudit.project.layout import Project
from labelaudit.project.store import Store, utc_now

__all__ = ["AUDIT_KINDS", "StoredAudit", "list_audits", "read_audit", "store_audit"]

#: What an audit can be: a preference audit or an LLM-judge audit.
AUDIT_KINDS = ("preferences", "judge")


@dataclass(frozen=True)
class StoredAudit:
    """One stored audit's identity (the document is read with :func:`read_audit`)."""

    audit_id: int
    kind: str
    name: str
    input_sha256: str | None
    stored_at: str

    def to_dict(self) -> dict[str, Any]:
        """``{"audit_id", "kind", "name", "input_sha256", "stored_at"}``."""
        return {
            "audit_id": self.audit_id,
            "kind": self.kind,
            "name": self.name,
            "input_sha256": self.input_sha256,
            "stored_at": self.stored_at,
        }


def _check_kind(kind: str) -> None:
    if kind not in AUDIT_KINDS:
        raise UsageError(f"audit kind must be one of {', '.join(AUDIT_KINDS)}; got {kind!r}")


def _input_sha256(document: dict[str, Any]) -> str | None:
    """The input file's SHA-256 when the document names one (a judge audit hashes several
    inputs: none is "the" input)."""
    found = (document.get("input") or {}).get("sha256")
    return found if isinstance(found, str) else None


def store_audit(project: Project, kind: str, document: dict[str, Any], *, name: str) -> int:
    """Store an audit document of ``kind`` under ``name``; returns its id (the existing id
    when the same kind, name and document are stored already).

    Parameters
    ----------
    project : Project
    kind : str
        ``"preferences"`` or ``"judge"``.
    document : dict
        The audit's ``to_dict()`` (JSON-ready).
    name : str
        What the audit is shown as (usually the input file's name).
    """
    _check_kind(kind)
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    config = project.config
    with project.open_store() as store, store.transaction():
        for audit_id, stored in store.execute(
            "SELECT audit_id, result FROM audit_results WHERE kind = ? AND name = ?",
            (kind, name),
        ).fetchall():
            if hashlib.sha256(stored.encode("utf-8")).hexdigest() == digest:
                return int(audit_id)
        run_id = store.record_run(
            f"{kind} audit",
            started_at=utc_now(),
            config_sha256=config.sha256,
            config_json=json.dumps(config.to_dict(), ensure_ascii=False),
            outcome="stored",
            input_path=name,
            input_sha256=_input_sha256(document),
        )
        audit_id = int(
            store.execute("SELECT coalesce(max(audit_id), 0) + 1 FROM audit_results").fetchone()[0]
        )
        store.execute(
            "INSERT INTO audit_results VALUES (?, ?, ?, ?, ?, ?, ?)",
            (audit_id, kind, name, _input_sha256(document), text, utc_now(), run_id),
        )
    return audit_id


def list_audits(store: Store, kind: str) -> list[StoredAudit]:
    """Every stored audit of ``kind``, newest first."""
    _check_kind(kind)
    rows = store.execute(
        "SELECT audit_id, kind, name, input_sha256, stored_at FROM audit_results "
        "WHERE kind = ? ORDER BY audit_id DESC",
        (kind,),
    ).fetchall()
    return [
        StoredAudit(int(i), k, n, sha, at.isoformat(timespec="seconds") + "Z")
        for i, k, n, sha, at in rows
    ]


def read_audit(store: Store, kind: str, audit_id: int) -> tuple[StoredAudit, dict[str, Any]]:
    """The stored audit ``audit_id`` of ``kind`` and its document (NotFoundError if none)."""
    _check_kind(kind)
    row = store.execute(
        "SELECT audit_id, kind, name, input_sha256, stored_at, result FROM audit_results "
        "WHERE kind = ? AND audit_id = ?",
        (kind, audit_id),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no {kind} audit {audit_id} in the project store")
    i, k, n, sha, at, text = row
    return StoredAudit(int(i), k, n, sha, at.isoformat(timespec="seconds") + "Z"), json.loads(text)
