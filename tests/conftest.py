"""Fixtures shared by the whole suite.

A session fixture must be defined in one place: imported into several test modules, each
module would get its own instance (and its own pcscd).
"""

from tests.support.pcscd import pcscd  # noqa: F401  (the real pcscd with the vpcd reader)
