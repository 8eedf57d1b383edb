"""The embedded ERP's life cycle: template once, clone, trytond on 127.0.0.1, idempotent up."""

from __future__ import annotations

import httpx

from dagster_project.erp.server import TEMPLATE_DB, template_stamp
from tests.erp_fixtures import RunningErp


def test_up_built_the_template_cloned_it_and_serves_json_rpc(erp: RunningErp) -> None:
    assert erp.info.url.startswith("http://127.0.0.1:")
    assert erp.server.template_status() == template_stamp()
    assert erp.server.database_exists(TEMPLATE_DB)
    answer = httpx.post(
        f"http://127.0.0.1:{erp.info.port}/rpc/",
        json={"id": 1, "method": "common.server.version", "params": []},
    )
    assert answer.json()["result"] == "8.2"
    print(f"\nERP up: {erp.up_seconds}")


def test_up_twice_is_harmless(erp: RunningErp) -> None:
    again = erp.server.up()
    assert not again.started_now
    assert again.pid == erp.info.pid and again.port == erp.info.port


def test_generated_files_keep_the_password_private(erp: RunningErp) -> None:
    assert erp.server.env_path.stat().st_mode & 0o777 == 0o600
    password = erp.credentials.password
    for path in (erp.server.conf_path, erp.server.log_path, erp.server.state_path):
        assert password not in path.read_text()


def test_status_names_what_runs(erp: RunningErp) -> None:
    status = erp.server.status()
    assert status["running"] is True and status["pid"] == erp.info.pid
    assert status["template_current"] is True
    assert erp.credentials.password not in str(status)
