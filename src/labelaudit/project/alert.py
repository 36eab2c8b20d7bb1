"""The optional alert: POST a check result as JSON to the URL in ``[alert]``.

Standard library only (:mod:`urllib.request`). The POST has a timeout; any failure
(refused connection, timeout, an HTTP error status, a bad URL) is returned as an
:class:`AlertResult` with the reason, never raised, so an alert can never crash a check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["AlertResult", "post_json"]


@dataclass(frozen=True)
class AlertResult:
    """What happened to one alert.

    Attributes
    ----------
    url : str
    sent : bool
        True when the server answered with a 2xx status.
    status : int or None
        HTTP status, when a response came back.
    error : str or None
        Why the alert was not delivered.
    """

    url: str
    sent: bool
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"url", "sent", "status", "error"}``."""
        return {"url": self.url, "sent": self.sent, "status": self.status, "error": self.error}


def post_json(url: str, payload: dict[str, Any], *, timeout_s: float = 10.0) -> AlertResult:
    """POST ``payload`` as ``application/json`` (UTF-8) to an http(s) ``url``.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` address.
    payload : dict
        JSON-ready data (no NaN).
    timeout_s : float
        Connect and read timeout, seconds.

    Returns
    -------
    AlertResult
        Never raises for network or HTTP problems.
    """
    import urllib.error
    import urllib.request

    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        return AlertResult(url, False, error=f"not an http(s) URL (scheme {scheme!r})")
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "labelaudit"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return AlertResult(url, False, status=error.code, error=f"HTTP {error.code} {error.reason}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return AlertResult(url, False, error=f"{type(error).__name__}: {reason}")
    return AlertResult(url, 200 <= status < 300, status=status)
