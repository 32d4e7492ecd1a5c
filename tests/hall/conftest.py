"""Fixtures: a real hall process per database backend, and enrolled signed clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.hall.kiosk_client import SignedClient
from tests.support.hall_process import HallProcess
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tests.support.s3_server import s3_server  # noqa: F401  (session fixture: one moto server for all)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hall(request, tmp_path_factory) -> Iterator[HallProcess]:
    """One running hall per backend for the whole session; tests enrol their own devices."""
    db_url = None
    if request.param == "postgres":
        cluster = request.getfixturevalue("postgres_cluster")
        db_url = cluster.create_database("hall_api")
    with HallProcess(tmp_path_factory.mktemp(f"hall-{request.param}"), db_url=db_url) as process:
        yield process


@pytest.fixture
def kiosk(hall: HallProcess, make_code) -> SignedClient:
    return SignedClient.enrolled(hall.url, make_code())


@pytest.fixture
def new_kiosk(hall: HallProcess, make_code) -> Callable[[], SignedClient]:
    return lambda: SignedClient.enrolled(hall.url, make_code())


@pytest.fixture(scope="session")
def make_code(hall: HallProcess) -> Iterator[Callable[[], str]]:
    """Enrolment codes made in-process (the same service function the CLI calls), for speed."""
    from hall.core.config import load_settings
    from hall.db import make_engine, make_sessionmaker
    from hall.services.enrolment import create_code

    settings = load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
    engine = make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)

    def make() -> str:
        with sessions() as db:
            return create_code(db, settings).code

    yield make
    engine.dispose()
