"""Test helpers shared by the suites (real hall process, PostgreSQL cluster)."""
