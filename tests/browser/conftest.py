"""Browser tests: the real server driven in Debian's Chromium (see tests/support/browser.py for
the fixtures and helpers, and tests/support/setup_browser.sh for the one-off setup)."""
from __future__ import annotations

from tests.support.browser import (app_server, app_url, chromium, desktop, fresh_page, page,  # noqa: F401 - fixtures
                                   phone, shared_context, warm_app)
