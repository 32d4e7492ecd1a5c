"""Unit tests of the hall's pure parts: passwords, keys, settings, migrations' head."""

from __future__ import annotations

import os
import stat

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from hall.core.config import load_settings
from hall.core.keys import load_or_create_keys
from hall.core.passwords import hash_password, verify_password
from hall.db import HEAD_REVISION, MIGRATIONS_DIR
from hall.errors import InvalidRequest
from hall.services.enrolment import normalise_code


def test_password_hash_round_trip():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$")
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    assert not verify_password("x", "garbage")


def test_keys_are_created_once_with_mode_0600(tmp_path):
    first = load_or_create_keys(tmp_path / "keys")
    second = load_or_create_keys(tmp_path / "keys")
    assert first.seal_public == second.seal_public and first.sign_public == second.sign_public
    for name in ("seal.key", "sign.key"):
        assert stat.S_IMODE(os.stat(tmp_path / "keys" / name).st_mode) == 0o600


def test_settings_layers(tmp_path):
    env = {"COUNTY_HALL_DATA_DIR": str(tmp_path / "env")}
    assert load_settings(environ=env).db_url == f"sqlite:///{tmp_path / 'env' / 'hall.db'}"
    assert load_settings(data_dir=tmp_path / "flag", environ=env).data_dir == tmp_path / "flag"
    pg = load_settings(db="postgresql://u@h/db", environ=env)
    assert pg.db_url == "postgresql+psycopg://u@h/db"
    with pytest.raises(InvalidRequest):
        load_settings(db="mysql://x", environ=env)


def test_head_revision_constant_matches_alembic():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_code_normalisation():
    assert normalise_code(" k7p2 9qxd ") == "K7P2-9QXD"
    assert normalise_code("K7P2-9QXD") == "K7P2-9QXD"
