"""Headless Chromium for the UI tests: Debian's chromium and chromedriver, driven by selenium.

The driver is always the one on disk (``/usr/bin/chromedriver``, or
``$DISTROHUB_CHROMEDRIVER``): selenium-manager never downloads one. The browser
runs with a throwaway profile and no background networking, so it works as root
on a closed network. Screenshots go to ``test-artifacts/ui/`` under the repo, or
to ``$DISTROHUB_TEST_ARTIFACTS``; :meth:`Browser.evidence` also saves the page
source when an assertion inside it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dagster_project.hub.settings import REPO_ROOT
from tests.prerequisites import missing_prerequisite
from tests.waiting import wait_until

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = os.environ.get("DISTROHUB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DISTROHUB_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL = (
    "as root: `./scripts/setup.sh --test` (what `make test` runs), or `apt-get update && "
    "apt-get install -y --no-install-recommends chromium chromium-driver fonts-liberation`; "
    "selenium comes with `pip install -e '.[test]'`"
)
WINDOW = (1600, 1000)
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container: Chromium's sandbox needs user namespaces
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)

T = TypeVar("T")


def artifacts_dir() -> Path:
    """Where screenshots go: $DISTROHUB_TEST_ARTIFACTS, else test-artifacts/ui in the repo."""
    configured = os.environ.get("DISTROHUB_TEST_ARTIFACTS")
    path = Path(configured) if configured else REPO_ROOT / "test-artifacts" / "ui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def missing_browser() -> str | None:
    """What is missing to drive a browser here (None when nothing is)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return None
    return f"{' and '.join(missing)} not found; to run the UI tests install them, {INSTALL}"


def require_browser() -> None:
    """Fail (CI=true) or skip (elsewhere) with the install command when the browser is missing."""
    problem = missing_browser()
    if problem is not None:
        missing_prerequisite(f"the browser cannot run: {problem}")


class Browser:
    """One headless Chromium; explicit waits that say what they waited for."""

    def __init__(self, driver: WebDriver, artifacts: Path) -> None:
        self.driver = driver
        self.artifacts = artifacts

    def open(self, url: str) -> None:
        self.driver.get(url)

    def before_each_page(self, source: str) -> None:
        """Run ``source`` in every page this browser opens, before the page's own scripts."""
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    def wait_for(self, what: str, condition: Callable[[], T | None], timeout: float = 60) -> T:
        """Poll ``condition`` until it returns something truthy; fail naming ``what``.

        A stale or not-yet-rendered element (any WebDriver error) counts as "not yet".
        """
        from selenium.common.exceptions import WebDriverException

        return wait_until(
            f"the UI to show {what}",
            condition,
            timeout=timeout,
            interval=0.25,
            ignore=(WebDriverException,),
            context=lambda: f"page: {self.driver.current_url}",
        )

    def script(self, source: str, *args: object) -> object:
        return self.driver.execute_script(source, *args)

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        self.driver.save_screenshot(str(path))
        print(f"screenshot: {path}")
        return path

    @contextmanager
    def evidence(self, name: str) -> Iterator[None]:
        """On a failure inside the block, save a screenshot and the page source, then fail."""
        try:
            yield
        except BaseException:
            shot = self.artifacts / f"{name}-failed.png"
            page = self.artifacts / f"{name}-failed.html"
            try:
                self.driver.save_screenshot(str(shot))
                page.write_text(self.driver.page_source)
                print(f"failure evidence: {shot} {page}")
            except Exception as exc:  # the browser itself died: keep the original error
                print(f"could not save failure evidence for {name}: {exc!r}")
            raise


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a fresh profile; quit and the profile removed afterwards."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="distrohub-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        # --window-size is the outer size: grow it so the page itself gets WINDOW
        chrome = driver.execute_script("return window.outerHeight - window.innerHeight")
        driver.set_window_size(WINDOW[0], WINDOW[1] + int(chrome or 0))
        yield Browser(driver, artifacts_dir())
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
