"""Access tokens of ``labelaudit serve``, kept in the project store as SHA-256 hashes.

A token is ``la_`` followed by 32 random URL-safe characters (192 bits from
:mod:`secrets`); only its SHA-256 is stored (``api_tokens``), so a copy of the store does
not hand out access. Roles: ``reader`` (every page and ``GET`` route) and ``writer``
(also decides adjudications and closes the webhook batch).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from labelaudit.exceptions import UsageError
from labelaudit.project.store import Store, utc_now

__all__ = ["ROLES", "TokenRecord", "create_token", "hash_token", "new_token", "stored_tokens"]

#: Token roles, weakest first.
ROLES = ("reader", "writer")
PREFIX = "la_"


@dataclass(frozen=True)
class TokenRecord:
    """A token's identity: ``name`` (who decides, shown with each decision) and ``role``."""

    name: str
    role: str

    @property
    def can_write(self) -> bool:
        """Whether the token may decide adjudications and close batches."""
        return self.role == "writer"


def new_token() -> str:
    """A fresh random token (``la_`` + 32 URL-safe characters, 192 bits)."""
    return PREFIX + secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of the token's UTF-8 bytes (what the store keeps)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(store: Store, *, role: str = "reader", name: str | None = None) -> str:
    """Store a new token's hash with ``role`` and ``name``; returns the token (shown once).

    Raises
    ------
    UsageError
        Unknown role, or a name already used by another token.
    """
    if role not in ROLES:
        raise UsageError(f"token role must be one of {', '.join(ROLES)}; got {role!r}")
    token = new_token()
    digest = hash_token(token)
    name = name or f"{role}-{digest[:8]}"
    if store.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,)).fetchone():
        raise UsageError(f"a token named {name!r} exists already; pass another --name")
    with store.transaction():
        store.execute(
            "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?)",
            (digest[:12], digest, role, name, utc_now()),
        )
    return token


def stored_tokens(store: Store) -> dict[str, TokenRecord]:
    """``{sha256: TokenRecord}`` of every stored token."""
    rows = store.execute("SELECT token_sha256, name, role FROM api_tokens").fetchall()
    return {digest: TokenRecord(name, role) for digest, name, role in rows}
