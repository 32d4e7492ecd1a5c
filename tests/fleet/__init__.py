"""Fleet tests: real kiosk processes against a real hall."""
