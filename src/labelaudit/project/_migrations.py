"""The store's schema, as numbered migrations (applied by :meth:`Store.migrate`).

Never edit a released migration: add a new one with the next version. Each runs in its
own transaction and is recorded in ``schema_migrations``. A migration may also rewrite
stored data (``apply``), e.g. recompute a stored figure whose convention changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BOOTSTRAP", "CODED_ANNOTATIONS", "MIGRATIONS", "Migration"]

#: The migration after which annotations are stored as codes plus names (``annotations``
#: is a view from then on; migrations before it read the old table).
CODED_ANNOTATIONS = 11


@dataclass(frozen=True)
class Migration:
    """One schema change: ``version`` (1, 2, ...), a ``name``, its DDL statements and an
    optional ``apply(store)`` run after them in the same transaction."""

    version: int
    name: str
    statements: tuple[str, ...]
    apply: Callable[[Any], None] | None = None


def _recompute_agreement(store: Any) -> None:
    """Migration 3 (issue 15): stored agreement figures follow the stated conventions."""
    from labelaudit.project.results import recompute_agreement

    recompute_agreement(store)


def _rehash(store: Any) -> None:
    """Migration 4 (issue 23): content hash version 2 for every stored batch."""
    from labelaudit.project.stored import rehash_batches

    rehash_batches(store)


def _profiles(store: Any) -> None:
    """Migration 8 (issue 21): the item profiles of every stored batch."""
    from labelaudit.project.statistics import backfill_profiles

    backfill_profiles(store)


def _profile_totals(store: Any) -> None:
    """Migration 10 (issue 21): the project's running profile totals from every batch's."""
    from labelaudit.project.statistics import rebuild_profile_totals

    rebuild_profile_totals(store)


#: Every SQL reader's ``annotations`` (migration 11): the old table's columns, decoded.
ANNOTATIONS_VIEW = """CREATE VIEW annotations AS
SELECT c.batch_id, i.name AS item, n.name AS annotator, l.name AS label, c.extra
FROM annotation_codes c
JOIN annotation_names i ON i.batch_id = c.batch_id AND i.field = 'item' AND i.code = c.item
JOIN annotation_names n
    ON n.batch_id = c.batch_id AND n.field = 'annotator' AND n.code = c.annotator
JOIN annotation_names l ON l.batch_id = c.batch_id AND l.field = 'label' AND l.code = c.label"""

#: One row per annotation, whichever table holds its batch: a batch's rows are all in
#: ``annotation_codes_plain`` (no extra columns) or all in ``annotation_codes_extra``.
CODES_VIEW = """CREATE VIEW annotation_codes AS
SELECT batch_id, item, annotator, label, CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS extra
FROM annotation_codes_plain
UNION ALL
SELECT batch_id, item, annotator, label, extra FROM annotation_codes_extra"""

#: Migration 13: ``annotation_codes`` also holds the batches stored one row per item
#: (``annotation_items``), each row's pairs unnested back into rows in stored order.
CODES_VIEW_ITEMS = """CREATE OR REPLACE VIEW annotation_codes AS
SELECT batch_id, item, annotator, label, CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS extra
FROM annotation_codes_plain
UNION ALL
SELECT batch_id, item, annotator, label, extra FROM annotation_codes_extra
UNION ALL
SELECT batch_id, item, pair >> label_bits, pair & ((1 << label_bits) - 1),
    CAST(NULL AS MAP(VARCHAR, VARCHAR))
FROM (SELECT batch_id, item, label_bits, unnest(pairs) AS pair FROM annotation_items)"""

#: Migration 13: ``annotation_names`` as every reader knows it; the item names of a batch
#: stored one row per item are in its ``annotation_items`` rows.
NAMES_VIEW = """CREATE VIEW annotation_names AS
SELECT batch_id, field, code, name FROM annotation_field_names
UNION ALL
SELECT batch_id, 'item', item, name FROM annotation_items"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "create runs, configs, batches, annotations, rejects and results",
        (
            """CREATE TABLE runs (
                run_id BIGINT PRIMARY KEY, command VARCHAR NOT NULL,
                started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL,
                tool_version VARCHAR NOT NULL, config_sha256 VARCHAR NOT NULL,
                input_path VARCHAR, input_sha256 VARCHAR, batch_name VARCHAR,
                outcome VARCHAR NOT NULL, details JSON)""",
            """CREATE TABLE configs (
                config_sha256 VARCHAR PRIMARY KEY, config JSON NOT NULL,
                first_seen_at TIMESTAMP NOT NULL)""",
            """CREATE TABLE batches (
                batch_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL UNIQUE,
                sha256 VARCHAR NOT NULL UNIQUE, source VARCHAR NOT NULL,
                input_sha256 VARCHAR NOT NULL, read_sha256 VARCHAR NOT NULL,
                n_annotations BIGINT NOT NULL, n_items BIGINT NOT NULL,
                n_annotators BIGINT NOT NULL, n_rejected BIGINT NOT NULL,
                task_schema JSON NOT NULL, ingested_at TIMESTAMP NOT NULL,
                run_id BIGINT NOT NULL)""",
            """CREATE TABLE annotations (
                batch_id BIGINT NOT NULL, item VARCHAR NOT NULL, annotator VARCHAR NOT NULL,
                label VARCHAR NOT NULL, extra MAP(VARCHAR, VARCHAR))""",
            """CREATE TABLE rejected_rows (
                batch_id BIGINT NOT NULL, entry BIGINT NOT NULL, source VARCHAR NOT NULL,
                line BIGINT NOT NULL, unit VARCHAR NOT NULL, field VARCHAR NOT NULL,
                problem VARCHAR NOT NULL, expected VARCHAR NOT NULL, actual VARCHAR,
                item VARCHAR, annotator VARCHAR, label VARCHAR)""",
            """CREATE TABLE batch_results (
                batch_id BIGINT NOT NULL, kind VARCHAR NOT NULL,
                schema_version INTEGER NOT NULL, result JSON NOT NULL,
                computed_at TIMESTAMP NOT NULL, run_id BIGINT NOT NULL,
                PRIMARY KEY (batch_id, kind))""",
            """CREATE TABLE batch_metrics (
                batch_id BIGINT NOT NULL, kind VARCHAR NOT NULL, metric VARCHAR NOT NULL,
                value DOUBLE, se DOUBLE, ci_low DOUBLE, ci_high DOUBLE, reason VARCHAR,
                PRIMARY KEY (batch_id, kind, metric))""",
            """CREATE TABLE annotator_metrics (
                batch_id BIGINT NOT NULL, kind VARCHAR NOT NULL, annotator VARCHAR NOT NULL,
                metric VARCHAR NOT NULL, value DOUBLE, n BIGINT, reason VARCHAR,
                PRIMARY KEY (batch_id, kind, annotator, metric))""",
        ),
    ),
    Migration(
        2,
        "create the LLM-judge cache (labelaudit.judge.cache.cache_ddl())",
        (
            # IF NOT EXISTS: a judge run may have created it before this migration ran.
            "CREATE TABLE IF NOT EXISTS judge_cache (request_sha256 VARCHAR PRIMARY KEY, "
            "model VARCHAR NOT NULL, content VARCHAR, prompt_tokens BIGINT, "
            "completion_tokens BIGINT, created_at TIMESTAMP NOT NULL)",
        ),
    ),
    Migration(
        3,
        "recompute stored agreement metrics: intervals bounded to each coefficient's range, "
        "kappas at interval/ratio level with declared categories or <= 100 values, new keys",
        (),
        _recompute_agreement,
    ),
    Migration(
        4,
        "rehash batches: content hash version 2 (length-prefixed, every stored column)",
        (),
        _rehash,
    ),
    Migration(
        5,
        "create API tokens, expert decisions and the Label Studio webhook inbox (serve)",
        (
            # Tokens of `labelaudit serve`, stored as SHA-256 hashes only.
            """CREATE TABLE api_tokens (
                token_id VARCHAR PRIMARY KEY, token_sha256 VARCHAR NOT NULL UNIQUE,
                role VARCHAR NOT NULL, name VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
            # Adjudicators' decisions, apart from honeypot gold. The same table as
            # `labelaudit pull --as-decisions` writes (IF NOT EXISTS: one definition).
            """CREATE TABLE IF NOT EXISTS decisions (
                item VARCHAR NOT NULL, label VARCHAR NOT NULL, decided_by VARCHAR,
                source VARCHAR NOT NULL, record_id VARCHAR NOT NULL, revision INTEGER NOT NULL,
                decided_at VARCHAR, pulled_at TIMESTAMP NOT NULL,
                PRIMARY KEY (source, record_id, revision))""",
            # Label Studio webhook deliveries, one row per distinct (annotation, revision,
            # deleted): a replayed delivery adds nothing. Rows without batch_name form the
            # open batch; closing it stores each annotation's latest state as a batch.
            """CREATE TABLE webhook_annotations (
                annotation_id BIGINT NOT NULL, task_id BIGINT NOT NULL,
                annotator VARCHAR NOT NULL, updated_at VARCHAR NOT NULL, deleted BOOLEAN NOT NULL,
                annotation JSON NOT NULL, task JSON NOT NULL, received_at TIMESTAMP NOT NULL,
                batch_name VARCHAR, PRIMARY KEY (annotation_id, updated_at, deleted))""",
        ),
    ),
    Migration(
        6,
        "record Label Studio pulls and expert decisions (labelaudit pull)",
        (
            # One row per revision of a pulled annotation (or prediction): what was seen,
            # when, and the batch it went into; status submitted, cancelled or deleted.
            """CREATE TABLE label_studio_pulls (
                source VARCHAR NOT NULL, record_id VARCHAR NOT NULL, revision INTEGER NOT NULL,
                task_id BIGINT, annotator VARCHAR, updated_at VARCHAR, status VARCHAR NOT NULL,
                batch_name VARCHAR, pulled_at TIMESTAMP NOT NULL,
                PRIMARY KEY (source, record_id, revision))""",
            # Adjudicators' decisions (pull --as-decisions), apart from honeypot gold: the
            # table migration 5 (serve) created; IF NOT EXISTS keeps one definition.
            """CREATE TABLE IF NOT EXISTS decisions (
                item VARCHAR NOT NULL, label VARCHAR NOT NULL, decided_by VARCHAR,
                source VARCHAR NOT NULL, record_id VARCHAR NOT NULL, revision INTEGER NOT NULL,
                decided_at VARCHAR, pulled_at TIMESTAMP NOT NULL,
                PRIMARY KEY (source, record_id, revision))""",
        ),
    ),
    Migration(
        7,
        "record the guideline version of each batch and calibration rounds (issue 16)",
        (
            # The guideline version a batch was labelled under (ingest --guidelines-version
            # or the [guidelines] file's version); batches without a row are unversioned.
            """CREATE TABLE batch_guidelines (
                batch_id BIGINT PRIMARY KEY, version VARCHAR NOT NULL,
                guideline_file VARCHAR, recorded_at TIMESTAMP NOT NULL)""",
            # One row per annotator and scored calibration round (labelaudit calibration score).
            """CREATE TABLE calibration_scores (
                round VARCHAR NOT NULL, annotator VARCHAR NOT NULL,
                guideline_version VARCHAR, n_items BIGINT NOT NULL, n_correct BIGINT NOT NULL,
                accuracy DOUBLE, accuracy_low DOUBLE, accuracy_high DOUBLE, kappa DOUBLE,
                scored_at TIMESTAMP NOT NULL, PRIMARY KEY (round, annotator))""",
        ),
    ),
    Migration(
        8,
        "store each batch's item profiles: windows of batches summed without re-reading "
        "annotations (labelaudit.project.statistics)",
        (
            # One row per distinct profile of a batch: the item's sorted (annotator, label)
            # ratings as JSON text, and the number of the batch's items that have it.
            """CREATE TABLE batch_profiles (
                batch_id BIGINT NOT NULL, profile VARCHAR NOT NULL, items BIGINT NOT NULL,
                PRIMARY KEY (batch_id, profile))""",
        ),
        _profiles,
    ),
    Migration(
        9,
        "store preference and judge audits (labelaudit preferences / judge audit --project)",
        (
            # One row per stored audit: the audit's to_dict() as it was written (the JSON
            # contract of docs/preferences.md and docs/judge.md); kind 'preferences' or
            # 'judge'.
            """CREATE TABLE IF NOT EXISTS audit_results (
                audit_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL, name VARCHAR NOT NULL,
                input_sha256 VARCHAR, result JSON NOT NULL, stored_at TIMESTAMP NOT NULL,
                run_id BIGINT NOT NULL)""",
        ),
    ),
    Migration(
        10,
        "keep the project's running item-profile totals: the all-batches statistics in one "
        "small read (labelaudit.project.statistics)",
        (
            # One row per distinct profile of the project (its text as in batch_profiles, its
            # ratings as two lists) and its items over every batch; ingest adds a batch's,
            # replacing a batch subtracts the old one's. No index: the single writer keeps
            # one row per profile (DuckDB refuses a key deleted and re-inserted in one
            # transaction, which a replaced batch would need).
            """CREATE TABLE project_profiles (
                profile VARCHAR NOT NULL, annotators VARCHAR[] NOT NULL,
                labels VARCHAR[] NOT NULL, items BIGINT NOT NULL)""",
        ),
        _profile_totals,
    ),
    Migration(
        CODED_ANNOTATIONS,
        "store annotations as integer codes plus each batch's names; annotations becomes a "
        "view with the old columns (issue 15: integer codes are cheaper to insert than strings)",
        (
            # One row per annotation, in stored order: the batch's own codes of its item,
            # annotator and label (0 .. n - 1 per batch and field), and the extra columns.
            """CREATE TABLE annotation_codes (
                batch_id BIGINT NOT NULL, item INTEGER NOT NULL, annotator INTEGER NOT NULL,
                label INTEGER NOT NULL, extra MAP(VARCHAR, VARCHAR))""",
            # One row per (batch, field, code): field 'item', 'annotator' or 'label'.
            """CREATE TABLE annotation_names (
                batch_id BIGINT NOT NULL, field VARCHAR NOT NULL, code INTEGER NOT NULL,
                name VARCHAR NOT NULL)""",
            """INSERT INTO annotation_names
            SELECT batch_id, field, CAST(row_number() OVER (
                PARTITION BY batch_id, field ORDER BY name) - 1 AS INTEGER), name
            FROM (SELECT DISTINCT batch_id, 'item' AS field, item AS name FROM annotations
                UNION ALL SELECT DISTINCT batch_id, 'annotator', annotator FROM annotations
                UNION ALL SELECT DISTINCT batch_id, 'label', label FROM annotations)""",
            # rowid order is the stored order of each batch's rows
            """INSERT INTO annotation_codes
            SELECT a.batch_id, i.code, n.code, l.code, a.extra FROM annotations a
            JOIN annotation_names i
                ON i.batch_id = a.batch_id AND i.field = 'item' AND i.name = a.item
            JOIN annotation_names n
                ON n.batch_id = a.batch_id AND n.field = 'annotator' AND n.name = a.annotator
            JOIN annotation_names l
                ON l.batch_id = a.batch_id AND l.field = 'label' AND l.name = a.label
            ORDER BY a.batch_id, a.rowid""",
            "DROP TABLE annotations",
            ANNOTATIONS_VIEW,
        ),
    ),
    Migration(
        12,
        "rows of batches without extra columns in their own table (annotation_codes_plain, "
        "no extra column); annotation_codes becomes a view over both tables (issue 15: an "
        "empty map column cost a fifth of the insert)",
        (
            # the rows stored so far stay where they are (no row moves)
            "ALTER TABLE annotation_codes RENAME TO annotation_codes_extra",
            """CREATE TABLE annotation_codes_plain (
                batch_id BIGINT NOT NULL, item INTEGER NOT NULL, annotator INTEGER NOT NULL,
                label INTEGER NOT NULL)""",
            CODES_VIEW,
        ),
    ),
    Migration(
        13,
        "a batch without extra columns is stored one row per item (annotation_items: its "
        "name and its rows' annotator and label codes packed in one list); annotation_names "
        "becomes a view over annotation_field_names and those rows (issue 15: a quarter of "
        "the values to insert, in one statement)",
        (
            # the batches stored so far stay where they are (no row moves)
            "ALTER TABLE annotation_names RENAME TO annotation_field_names",
            # One row per item code of a batch (0 .. n - 1): its name and its rows in
            # stored order, each as annotator << label_bits | label (label_bits: the bit
            # length of the batch's largest label code).
            """CREATE TABLE annotation_items (
                batch_id BIGINT NOT NULL, item INTEGER NOT NULL, name VARCHAR NOT NULL,
                label_bits INTEGER NOT NULL, pairs INTEGER[] NOT NULL)""",
            NAMES_VIEW,
            CODES_VIEW_ITEMS,
        ),
    ),
)

BOOTSTRAP = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL,
    tool_version VARCHAR NOT NULL)"""
