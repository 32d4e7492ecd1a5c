"""The kiosk-facing HTTP API (``/api/v1``), per docs/protocol.md."""
