"""What the hall does, independent of HTTP: each module takes a Session and settings."""
