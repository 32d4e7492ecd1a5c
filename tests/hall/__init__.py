"""Tests of the reference county sub-hall."""
