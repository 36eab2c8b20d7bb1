"""Who is asking: bearer tokens or the login cookie, reader and writer roles, CSRF tokens.

Every page and ``/api/`` route needs a token, on loopback too: ``Authorization: Bearer
TOKEN`` (scripts, the API) or the ``labelaudit_token`` cookie set by the login page
(browsers; ``HttpOnly``, ``SameSite=Strict``). Tokens are compared by their SHA-256
against the stored hashes (re-read when the store changes) and the server's temporary
token. A request authenticated by the cookie must also carry the CSRF token of that
session (form field ``csrf`` or header ``X-CSRF-Token``) to change anything: an HMAC of
the token's hash under a per-process secret, so another site cannot forge a form post.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from labelaudit.project.tokens import TokenRecord, hash_token, stored_tokens
from labelaudit.server.access import MISSING, StoreAccess

__all__ = ["COOKIE", "Identity", "TokenBook"]

COOKIE = "labelaudit_token"
LOGIN_COOKIE = "labelaudit_login"


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: token ``name`` and ``role``, and how it came (cookie/bearer)."""

    name: str
    role: str
    digest: str
    via_cookie: bool

    @property
    def can_write(self) -> bool:
        """Writers decide adjudications and close batches."""
        return self.role == "writer"


class TokenBook:
    """The tokens the server accepts: the stored ones and an optional temporary one."""

    def __init__(self, access: StoreAccess, temporary: str | None = None) -> None:
        self.access = access
        self.secret = secrets.token_bytes(32)
        self.temporary = (
            {hash_token(temporary): TokenRecord("temporary", "writer")} if temporary else {}
        )

    def _stored(self) -> dict[str, TokenRecord]:
        def read() -> dict[str, TokenRecord]:
            with self.access.reading() as store:
                return stored_tokens(store)

        known = self.access.peek("tokens")
        return self.access.cached("tokens", read, ("tokens",)) if known is MISSING else known

    def identify(self, token: str | None, *, via_cookie: bool) -> Identity | None:
        """The identity of ``token``, or None when it is unknown (or absent)."""
        if not token or len(token) > 200:
            return None
        digest = hash_token(token)
        record = self.temporary.get(digest) or self._stored().get(digest)
        if record is None:
            return None
        return Identity(record.name, record.role, digest, via_cookie)

    def csrf(self, identity: Identity) -> str:
        """The CSRF token of ``identity``'s session."""
        return hmac.new(self.secret, identity.digest.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, identity: Identity, given: str | None) -> bool:
        """Whether ``given`` is the session's CSRF token (bearer callers need none)."""
        if not identity.via_cookie:
            return True
        return bool(given) and hmac.compare_digest(self.csrf(identity), str(given))
