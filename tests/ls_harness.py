"""A real Label Studio on 127.0.0.1 for the tests: start, seed through its API, stop.

:class:`LabelStudio` starts the pinned release (installed by ``tests/ls_install.py`` into its
own environment in the labelaudit cache) with a fresh data directory and a free port,
waits for ``/api/version``, and talks to it with the admin's legacy token. Users who can
annotate are signed up through the organisation's invite link (``POST /api/users/`` makes
users outside the organisation). Facts behind each call:
``/work/shared/notes/label-studio-harness.md``.

The session fixture :func:`label_studio` skips only when the package cannot be installed;
once installed, a server that fails to start is an error.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_install import LS_VERSION, label_studio_executable

ADMIN = "admin@example.com"
START_TIMEOUT_S = 240
EXPORT_TIMEOUT_S = 120


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LabelStudio:
    """One running Label Studio server and an admin client for it."""

    def __init__(self, executable: Path, root: Path) -> None:
        self.executable = executable
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(20)
        self.password = "p" + secrets.token_urlsafe(12)  # never starts with "-" (an option)
        self.log = root / "label-studio.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Token {self.token}"}, timeout=60
        )

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the server and wait until ``/api/version`` answers (raises on failure)."""
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        env.update(SENTRY_DSN="", FRONTEND_SENTRY_DSN="", LABEL_STUDIO_BASE_DATA_DIR=str(self.root))
        # Its webhooks go to a labelaudit serve on 127.0.0.1, a subnet Label Studio's SSRF
        # guard refuses by default (USE_DEFAULT_BANNED_SUBNETS); this server is loopback-only.
        env.update(USE_DEFAULT_BANNED_SUBNETS="false")
        command = [
            str(self.executable), "start", "--no-browser", "--internal-host", "127.0.0.1",
            "-p", str(self.port), "--data-dir", str(self.root / "data"),
            "--username", ADMIN, "--password", self.password,
            "--user-token", self.token, "--enable-legacy-api-token",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.root
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"label-studio exited at start-up; see {self.log}")
            try:
                if httpx.get(f"{self.url}/api/version", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(
            f"label-studio did not answer within {START_TIMEOUT_S} s; see {self.log}"
        )

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 20 s)."""
        self.client.close()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)

    # ------------------------------------------------------------------ API helpers
    def api(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        """Call the API as the admin (or as the user of ``token``); the JSON answer."""
        headers = {"Authorization": f"Token {token}"} if token else None
        response = self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def add_user(self, email: str) -> str:
        """Sign ``email`` up through the invite link; returns the user's API token."""
        invite = self.api("GET", "/api/invite")["invite_url"]
        path = invite if invite.startswith("/") else "/" + invite.split("/", 3)[-1]
        with httpx.Client(base_url=self.url, timeout=60) as session:
            page = session.get(path)
            csrf = session.cookies.get("csrftoken") or _csrf_from(page.text)
            form = {"csrfmiddlewaretoken": csrf, "email": email, "password": self.password}
            answer = session.post(path, data=form, headers={"Referer": f"{self.url}{path}"})
            if answer.status_code >= 400:
                raise RuntimeError(f"sign-up of {email} failed: {answer.status_code}")
            token = session.get("/api/current-user/token")
            if token.status_code != 200:
                raise RuntimeError(f"no token for {email}: {token.status_code} {token.text[:200]}")
            return str(token.json()["token"])

    def user_ids(self) -> dict[str, int]:
        """Email -> user id of every user of the organisation."""
        users = self.api("GET", "/api/users/")
        return {user["email"]: int(user["id"]) for user in users}

    def create_project(self, title: str, label_config: str) -> int:
        """A new project; returns its id."""
        body = {"title": title, "label_config": label_config}
        return int(self.api("POST", "/api/projects/", json=body)["id"])

    def import_tasks(self, project: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Import tasks (``{"data": ...}``, optionally with predictions); their ids in order."""
        self.api("POST", f"/api/projects/{project}/import", json=tasks)
        listed = self.api("GET", "/api/tasks/", params={"project": project, "page_size": 10_000})
        found = listed["tasks"] if isinstance(listed, dict) else listed
        return sorted(int(task["id"]) for task in found)

    def annotate(
        self, task: int, result: list[dict[str, Any]], token: str, **extra: Any
    ) -> dict[str, Any]:
        """Submit an annotation of ``task`` as the user of ``token``."""
        body = {"result": result, **extra}
        return dict(self.api("POST", f"/api/tasks/{task}/annotations/", token=token, json=body))

    def export(self, project: int, export_type: str) -> bytes:
        """The export a user downloads (``JSON``, ``JSON_MIN``, ``CSV``, ...)."""
        response = self.client.get(
            f"/api/projects/{project}/export", params={"exportType": export_type}
        )
        response.raise_for_status()
        return response.content

    def snapshot(self, project: int) -> bytes:
        """A JSON snapshot export with annotator objects (emails) and full predictions."""
        options = {
            "annotations__completed_by": {"only_id": False},
            "predictions": {"only_id": False},
        }
        body = {"title": "labelaudit", "serialization_options": options}
        created = self.api("POST", f"/api/projects/{project}/exports/", json=body)
        deadline = time.monotonic() + EXPORT_TIMEOUT_S
        while time.monotonic() < deadline:
            state = self.api("GET", f"/api/projects/{project}/exports/{created['id']}")
            if state["status"] == "completed":
                response = self.client.get(
                    f"/api/projects/{project}/exports/{created['id']}/download",
                    params={"exportType": "JSON"},
                )
                response.raise_for_status()
                return response.content
            if state["status"] == "failed":
                raise RuntimeError(f"snapshot export failed: {state}")
            time.sleep(0.5)
        raise RuntimeError("snapshot export did not complete")


def _csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("no CSRF token on the sign-up page")
    return match.group(1)


@functools.cache
def _installed() -> Path | str:
    """The executable, or the reason it could not be installed."""
    try:
        return label_studio_executable()
    except RuntimeError as error:
        return str(error)


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudio]:
    """A running Label Studio (skips only when label-studio cannot be installed)."""
    installed = _installed()
    if isinstance(installed, str):
        pytest.skip(f"label-studio=={LS_VERSION} could not be installed: {installed}")
    server = LabelStudio(installed, tmp_path_factory.mktemp("label-studio"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
