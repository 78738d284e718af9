"""End-to-end journeys: the browser fixtures (``browser``, ``journey``, ``demo``) live in tests/utils/browser.py
and are shared by every suite through tests/conftest.py."""
