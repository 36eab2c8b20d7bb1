"""A small client of a running Label Studio's REST API (httpx, imported lazily).

Used by ``labelaudit pull`` (read a project: label config, tasks with annotations,
annotator emails, predictions) and ``labelaudit adjudicate --push`` (create review tasks).
Endpoints and shapes verified against label-studio 1.23.2 (``tests/ls_harness.py``).

Authentication: the token comes from ``LABEL_STUDIO_API_KEY`` or a file named by the user
(:func:`load_token`) and is only ever sent in the ``Authorization`` header; it is never
written anywhere and never appears in a message. Both kinds of token work:

- a personal access token (a JWT refresh token, Label Studio >= 1.19 default) is exchanged
  at ``POST /api/token/refresh/`` for a short-lived access token, sent as ``Bearer``;
  the exchange is repeated once when the access token expires;
- a legacy token (40 hex characters) is sent as ``Token``.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError, UsageError

__all__ = ["TOKEN_ENV", "LabelStudioAPI", "load_token"]

#: Environment variable holding the API token.
TOKEN_ENV = "LABEL_STUDIO_API_KEY"
EXPORT_TIMEOUT_S = 600.0
_SNAPSHOT_OPTIONS = {
    "annotations__completed_by": {"only_id": False},
    "predictions": {"only_id": False},
}


def load_token(token_file: str | Path | None = None) -> str:
    """The API token: the first line of ``token_file``, else ``$LABEL_STUDIO_API_KEY``.

    Raises
    ------
    UsageError
        Neither gives a token.
    """
    if token_file is not None:
        try:
            lines = Path(token_file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise UsageError(f"cannot read --token-file {token_file}: {error.strerror}") from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise UsageError(f"--token-file {token_file} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise UsageError(
            f"no Label Studio API token: set {TOKEN_ENV} or pass --token-file FILE "
            "(Label Studio: Account & Settings > Personal Access Token)"
        )
    return token


def _is_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and all(parts)


class LabelStudioAPI:
    """One Label Studio server, one token.

    Parameters
    ----------
    url : str
        Base URL, e.g. ``http://localhost:8080``.
    token : str
        Personal access token (JWT refresh token) or legacy token.
    timeout : float
        Seconds per request.
    """

    def __init__(self, url: str, token: str, *, timeout: float = 60.0) -> None:
        try:
            import httpx
        except ImportError:
            raise UsageError(
                "talking to Label Studio needs httpx, which is not installed. "
                "Fix: pip install 'labelaudit[label-studio]'"
            ) from None
        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise UsageError(f"--ls-url must start with http:// or https://; got {url!r}")
        self._token = token
        self._access: str | None = None
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> LabelStudioAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport
    def _headers(self, refresh: bool = False) -> dict[str, str]:
        if not _is_jwt(self._token):
            return {"Authorization": f"Token {self._token}"}
        if self._access is None or refresh:
            answer = self._send("POST", "/api/token/refresh/", {}, json={"refresh": self._token})
            if answer.status_code != 200:
                raise self._refused(answer.status_code, "the personal access token")
            self._access = str(answer.json().get("access", ""))
        return {"Authorization": f"Bearer {self._access}"}

    def _send(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        import httpx

        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise InputError(
                "cannot reach Label Studio",
                source=self.url,
                expected="a running Label Studio answering at --ls-url",
                actual=type(error).__name__ + (f": {error}" if str(error) else ""),
            ) from None

    def _refused(self, status: int, what: str) -> InputError:
        return InputError(
            "Label Studio refused the token",
            source=self.url,
            expected=f"a valid API token ({TOKEN_ENV} or --token-file)",
            actual=f"HTTP {status} for {what}",
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; the decoded JSON answer (None when empty).

        Raises
        ------
        InputError
            Unreachable server, refused token (401/403), missing resource (404), or any
            other error status (with the start of Label Studio's answer).
        """
        answer = self._send(method, path, self._headers(), **kwargs)
        if answer.status_code == 401 and _is_jwt(self._token):
            answer = self._send(method, path, self._headers(refresh=True), **kwargs)
        if answer.status_code in (401, 403):
            raise self._refused(answer.status_code, f"{method} {path}")
        if answer.status_code == 404:
            raise InputError(
                "not found in Label Studio", source=self.url, expected=f"{method} {path}",
                actual="HTTP 404 (check --ls-project)",
            )  # fmt: skip
        if answer.status_code >= 400:
            raise InputError(
                "Label Studio refused the request",
                source=self.url,
                expected=f"{method} {path} to succeed",
                actual=f"HTTP {answer.status_code}: {answer.text[:300]}",
            )
        return answer.json() if answer.content else None

    # ------------------------------------------------------------------ reading
    def project(self, project: int) -> dict[str, Any]:
        """The project object (``title``, ``label_config``, counts)."""
        return dict(self.request("GET", f"/api/projects/{project}"))

    def snapshot(self, project: int) -> list[dict[str, Any]]:
        """Every task with its annotations (annotator objects with emails) and predictions.

        Made by an export snapshot (``POST /api/projects/{id}/exports/``), the only
        endpoint that expands ``completed_by`` to the user's email in Community editions.
        """
        body = {"title": "labelaudit pull", "serialization_options": _SNAPSHOT_OPTIONS}
        created = self.request("POST", f"/api/projects/{project}/exports/", json=body)
        deadline = time.monotonic() + EXPORT_TIMEOUT_S
        path = f"/api/projects/{project}/exports/{created['id']}"
        while True:
            status = self.request("GET", path).get("status")
            if status == "completed":
                break
            if status == "failed" or time.monotonic() > deadline:
                raise InputError(
                    "Label Studio export failed", source=self.url,
                    expected="a completed export snapshot", actual=str(status),
                )  # fmt: skip
            time.sleep(0.5)
        tasks = self.request("GET", f"{path}/download", params={"exportType": "JSON"})
        self._forget(path)
        return list(tasks)

    def _forget(self, path: str) -> None:
        """Delete the export snapshot (it holds a copy of the data on the server)."""
        with contextlib.suppress(InputError):
            self.request("DELETE", path)

    def tasks(self, project: int) -> list[dict[str, Any]]:
        """Tasks of a project with their predictions (``GET /api/tasks``), every page."""
        tasks: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"project": project, "page": page, "page_size": 500, "fields": "all"}
            answer = self.request("GET", "/api/tasks/", params=params)
            batch = answer.get("tasks", []) if isinstance(answer, dict) else answer
            tasks.extend(batch)
            total = answer.get("total", len(tasks)) if isinstance(answer, dict) else len(tasks)
            if not batch or len(tasks) >= total:
                return tasks
            page += 1

    # ------------------------------------------------------------------ writing
    def import_tasks(self, project: int, tasks: list[dict[str, Any]]) -> int:
        """Create tasks (with their predictions) in a project; returns how many were made."""
        answer = self.request("POST", f"/api/projects/{project}/import", json=tasks)
        return int((answer or {}).get("task_count", len(tasks)))
