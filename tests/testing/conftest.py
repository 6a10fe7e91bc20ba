"""The contract's own tests check deliberately broken parts: they are not
parts of the package, so they stay out of the contract sweep's table."""

import pytest

from keras_dlparts.testing.harness import REPORT_ENV


@pytest.fixture(autouse=True)
def _no_sweep_report(monkeypatch):
    monkeypatch.delenv(REPORT_ENV, raising=False)
