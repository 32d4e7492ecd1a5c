"""The device agent: heartbeats to the hall, signed commands from it (no Kivy here)."""
