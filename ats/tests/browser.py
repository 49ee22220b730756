"""Real-browser tests: Playwright (sync API) driving Debian's Chromium against `live_server`.

    def test_something(browser_page_for, reviewer_user):
        page = browser_page_for(reviewer_user)          # logged in, 1366x768
        page.goto("/admin/")
        page.shot("index")                              # test-artifacts/<test>/01-index.png
        page.docs_shot("review")                        # docs/screenshots/review.png, only
                                                        # with UPDATE_SCREENSHOTS=1

Every page the test opens is watched: a console error, an uncaught exception, a failed
request, an HTTP error status the test did not announce (`with page.expect_status(409):`), or
a request to another host fails the test at teardown. `make test` installs Chromium with
apt-get; Playwright's own browser download is never used (it cannot work offline).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
# The README's screenshots: rewritten only on request (they show the time of the run, so
# writing them on every `make test` would dirty the checkout).
DOCS_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
UPDATE_SCREENSHOTS = "UPDATE_SCREENSHOTS"
MSG_NO_CHROMIUM = (
    "Chromium is not installed: run `make test` (it installs Debian's chromium with apt-get), "
    "or `apt-get install chromium chromium-driver`."
)
VIEWPORTS = {"laptop": (1366, 768), "desktop": (1920, 1080)}


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError(MSG_NO_CHROMIUM)
    return path


def session_cookie_for(user: Any) -> str:
    """A logged-in session for `user`, as Django's login would create it."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


class WatchedPage:
    """A Playwright page plus what went wrong on it. Attribute access falls through to the
    Playwright `Page`, so `page.click(...)`, `page.locator(...)` work as usual; `goto`
    accepts paths relative to the live server."""

    def __init__(
        self, page: Any, *, base_url: str, artifacts: Path, shot_numbers: Iterator[int]
    ) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc
        self.artifacts = artifacts
        self.problems: list[str] = []
        self.expected_statuses: list[int] = []
        self.provoked: list[int] = []  # expected statuses that came (Chromium logs them too)
        self.shot_numbers = shot_numbers
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("request", self._request)
        page.on("response", self._response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        for status in self.provoked:
            if f"the server responded with a status of {status}" in message.text:
                self.provoked.remove(status)
                return
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def _request_failed(self, request: Any) -> None:
        if request.failure == "net::ERR_ABORTED" and request.resource_type in ("xhr", "fetch"):
            return  # superseded by a newer request (an autocomplete typing on), not a failure
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != self.host:
            self.problems.append(f"request to another host: {request.url}")

    def _response(self, response: Any) -> None:
        if response.status < 400:
            return
        if response.status in self.expected_statuses:
            self.expected_statuses.remove(response.status)
            self.provoked.append(response.status)
            return
        self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    @contextmanager
    def expect_status(self, status: int) -> Iterator[None]:
        """Announce one response with an error status that the test means to provoke."""
        self.expected_statuses.append(status)
        yield
        if status in self.expected_statuses:
            self.expected_statuses.remove(status)
            self.problems.append(f"expected an HTTP {status} response, none came")

    def goto(self, path: str, **kwargs: Any) -> Any:
        return self.page.goto(urljoin(self.base_url + "/", path.lstrip("/")), **kwargs)

    def shot(self, name: str, *, viewports: tuple[str, ...] = ("laptop",)) -> list[Path]:
        """Full-page screenshots, numbered in the order taken, one per viewport."""
        number = next(self.shot_numbers)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        original = self.page.viewport_size
        paths = []
        for viewport in viewports:
            width, height = VIEWPORTS[viewport]
            self.page.set_viewport_size({"width": width, "height": height})
            path = self.artifacts / f"{number:02d}-{slug}-{width}x{height}.png"
            self.page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        self.page.set_viewport_size(original)
        return paths

    def docs_shot(self, name: str) -> Path | None:
        """The page, full length at 1366 px wide, as `docs/screenshots/<name>.png` (the
        README's pictures) when `UPDATE_SCREENSHOTS=1`; otherwise nothing (returns None)."""
        if os.environ.get(UPDATE_SCREENSHOTS, "").strip().lower() in ("", "0", "false", "no"):
            return None
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = self.page.viewport_size
        width, height = VIEWPORTS["laptop"]
        self.page.set_viewport_size({"width": width, "height": height})
        path = DOCS_SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(original)
        return path

    def assert_clean(self) -> None:
        assert not self.problems, "The browser saw problems:\n" + "\n".join(self.problems)
