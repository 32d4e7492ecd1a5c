"""Settings, keys and secrets of the hall."""
