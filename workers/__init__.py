"""Small shared building blocks for the kiosk's background threads.

This package sits below ``hardware``, ``offline_queue`` and ``kiosk``: it imports none of
them, so every room can use it without an import circle.
"""

from workers.loop import BackgroundLoop, LoopStats

__all__ = ["BackgroundLoop", "LoopStats"]
