"""Keep credentials off disk: scrub secrets from text and strip them from endpoint URLs.

- :class:`Redactor` replaces every occurrence of a secret (the API key, the user and
  password of a ``base_url``) in a text by ``***``, in the encodings an endpoint can echo
  them in: as is; JSON-escaped (``json.dumps``, ASCII-escaped, ``\\/``, every character as
  ``\\uXXXX``); percent-encoded; hexadecimal; standard and URL-safe base64 at each of the
  three byte alignments (so ``base64("Bearer KEY")`` and ``base64("user:pw")`` inside a
  longer base64 text are caught); all of them in any letter case. Secrets shorter than
  :data:`MIN_SECRET` characters are not scrubbed (they would match ordinary words), and
  base64 fragments shorter than 8 characters are left out for the same reason.
- :func:`split_credentials` removes the ``user:password@`` part of a URL (sent as HTTP
  basic authentication instead) and :func:`redact_url` shows it as ``***:***@``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit, urlunsplit

__all__ = ["MIN_SECRET", "Redactor", "redact_url", "split_credentials", "url_secrets"]

#: Shortest secret that is scrubbed (characters).
MIN_SECRET = 4
_MIN_FRAGMENT = 8
MASK = "***"


def _base64_fragments(secret: bytes) -> set[str]:
    """The base64 characters that depend only on ``secret``, at the 3 byte alignments."""
    out = set()
    for offset in range(3):
        padded = b"\0" * offset + secret
        start = -(-8 * offset // 6)  # first character whose 6 bits are all inside the secret
        end = 8 * len(padded) // 6  # one past the last such character
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            fragment = encode(padded).decode("ascii")[start:end]
            if len(fragment) >= _MIN_FRAGMENT:
                out.add(fragment)
    return out


def _variants(secret: str) -> set[str]:
    """Every encoded form of ``secret`` that is scrubbed (see the module docstring)."""
    raw = secret.encode("utf-8", "surrogatepass")
    escaped = json.dumps(secret)[1:-1]
    forms = {
        secret,
        escaped,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        escaped.replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in secret if ord(c) <= 0xFFFF),
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        raw.hex(),
    }
    return forms | _base64_fragments(raw)


class Redactor:
    """Replace secrets (and their encodings) in text by ``***``.

    Parameters
    ----------
    secrets : iterable of str or None
        The values to hide; None, empty and too short (< :data:`MIN_SECRET`) ones are
        ignored.
    """

    def __init__(self, secrets: Iterable[str | None]) -> None:
        kept = {s for s in secrets if s and len(s) >= MIN_SECRET}
        forms = sorted({v for s in kept for v in _variants(s) if v}, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(map(re.escape, forms)), re.IGNORECASE) if forms else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        """``text`` with every secret form replaced by ``***``."""
        return text if self._pattern is None else self._pattern.sub(MASK, text)


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user:password@, user, password)``; the parts are percent-decoded."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    clean = urlunsplit(parts._replace(netloc=host))
    return clean, unquote(user) or None, unquote(password) or None


def redact_url(url: str) -> str:
    """``url`` with its ``user:password@`` part shown as ``***:***@``."""
    clean, user, password = split_credentials(url)
    if user is None and password is None:
        return url
    parts = urlsplit(clean)
    return urlunsplit(parts._replace(netloc=f"{MASK}:{MASK}@{parts.netloc}"))


def url_secrets(url: str) -> list[str]:
    """The secrets of a URL's ``user:password@`` part: the password and ``user:password``
    (the form HTTP basic authentication encodes); the user name alone is not secret."""
    _, user, password = split_credentials(url)
    if password is None:
        return []
    return [password, f"{user or ''}:{password}"]
