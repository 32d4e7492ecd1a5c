"""Kiosk software releases: signed manifests, resumable downloads, A/B install and rollback."""
