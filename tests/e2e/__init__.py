"""Browser tests (a package, so that ``e2e.test_login`` never collides with ``integration/…/test_login``)."""
