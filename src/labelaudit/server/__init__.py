"""``labelaudit serve``: the team's quality dashboard over the project store.

Server-rendered pages (documents of :mod:`labelaudit.report.document` through the reports'
base template), each with a JSON twin under ``/api/`` and an OpenAPI schema at
``/openapi.json``; the adjudication queue decided in the browser; token access. Needs the
``server`` extra (``pip install 'labelaudit[server]'``).

- :func:`create_app` -- the ASGI application of one project.
- :func:`is_loopback` -- whether a host name binds to this machine only.
"""

from __future__ import annotations

import ipaddress

from labelaudit.server.app import create_app

__all__ = ["create_app", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
