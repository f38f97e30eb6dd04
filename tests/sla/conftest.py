"""Fixtures of the escalation and outbox tests."""

import pytest

from tests.sla.helpers import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()
