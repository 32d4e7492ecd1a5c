"""Tests (a package so that test modules get unique dotted names)."""
