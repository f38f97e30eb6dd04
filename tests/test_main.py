"""The app as `zhaocuo serve` builds it for each worker."""

import gc

from app.main import create_served_app


def test_a_served_app_is_frozen_out_of_the_collectors_full_passes(database_url, monkeypatch):
    monkeypatch.setenv("ZHAOCUO_DATABASE_URL", database_url)
    try:
        app = create_served_app()
        tracked = gc.get_objects()
        assert not any(candidate is app for candidate in tracked)
        assert not any(candidate is app.router for candidate in tracked)
    finally:
        gc.unfreeze()
