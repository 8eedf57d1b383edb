"""Generated settings: an operator's variables win; a rewritten file refreshes what was loaded."""

from __future__ import annotations

import pytest

from dagster_project.hub import settings


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTROHUB_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(settings, "_GENERATED", {})
    for key in ("DISTROHUB_TRYTON_URL", "DISTROHUB_TRYTON_USER"):
        # recorded first, so whatever the test sets is undone afterwards
        monkeypatch.setenv(key, "-")
        monkeypatch.delenv(key)
    (tmp_path / "erp").mkdir()
    return tmp_path


def test_a_restarted_erp_on_another_port_replaces_the_loaded_url(state, monkeypatch) -> None:
    env = state / "erp" / "erp.env"
    env.write_text("DISTROHUB_TRYTON_URL=http://127.0.0.1:1111/erp/\n")
    settings.load_generated_environment()
    assert settings.os.environ["DISTROHUB_TRYTON_URL"].endswith(":1111/erp/")
    # a subprocess gets the operator's environment only: it reads the files itself
    assert "DISTROHUB_TRYTON_URL" not in settings.operator_environment()
    env.write_text("DISTROHUB_TRYTON_URL=http://127.0.0.1:2222/erp/\n")
    settings.load_generated_environment()
    assert settings.os.environ["DISTROHUB_TRYTON_URL"].endswith(":2222/erp/")


def test_an_operators_setting_wins_over_the_generated_file(state, monkeypatch) -> None:
    monkeypatch.setenv("DISTROHUB_TRYTON_URL", "https://erp.example.com/prod/")
    (state / "erp" / "erp.env").write_text("DISTROHUB_TRYTON_URL=http://127.0.0.1:1111/erp/\n")
    settings.load_generated_environment()
    assert settings.os.environ["DISTROHUB_TRYTON_URL"] == "https://erp.example.com/prod/"
    assert (
        settings.operator_environment()["DISTROHUB_TRYTON_URL"] == "https://erp.example.com/prod/"
    )
