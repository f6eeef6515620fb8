"""Screenshots written as test artifacts (test-artifacts/ is not committed)."""

from pathlib import Path

from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "admin"


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot of what the browser shows now."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
