"""Where the sandbox keeps its runtime state, and the files in it.

``$DISTROHUB_STATE_DIR/sandbox/`` (default ``<repo>/.distrohub/sandbox/``):

* ``config.json``: the arguments of ``sandbox up`` (seed, sizes, faults, ...);
* ``credentials.json``: tokens and secrets generated for this world (0600);
* ``runtime.json``: the server process id, ports and URLs, once it answers;
* ``progress.json``: what the starting server is doing (generation progress);
* ``systems.env``: ``KEY=value`` lines a connector reads to find each system;
* ``server.log``: the server's output;
* ``mailbox.jsonl``: every message the mail relay accepted, one JSON line each (``sandbox.smtp``);
* ``drops/``: the drop and outbox folders of the 3PL and the suppliers, and the planning
  tool's drop folder.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import sandbox

CHANNEL_KEYS = {"B2B": "B2B", "D2C": "D2C", "MARKETPLACE": "MARKETPLACE"}
WMS_KEYS = {"DC-EAST": "DC_EAST", "DC-WEST": "DC_WEST"}
SUPPLIERS = ("ACME", "BOREAL", "CASCADE")


def repo_root() -> Path:
    return Path(sandbox.__file__).resolve().parents[1]


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The sandbox state directory (created)."""
    base = (
        Path(override)
        if override
        else Path(os.environ.get("DISTROHUB_STATE_DIR") or repo_root() / ".distrohub")
    )
    path = base / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def drop_dirs(root: Path) -> dict[str, Path]:
    """The folders each file-based system uses, created.

    Keys: ``3pl:drop`` (files from the 3PL: stock CSV, 945), ``3pl:outbox``
    (940s for the 3PL), ``supplier:<CODE>:drop`` (846/855/856/810),
    ``supplier:<CODE>:outbox`` (850s for the supplier), ``planning:drop`` (the
    planning tool's CSV exports: item policy, kits, promotions, contract prices)."""
    dirs = {
        "3pl:drop": root / "drops" / "3pl" / "to_hub",
        "3pl:outbox": root / "drops" / "3pl" / "from_hub",
        "planning:drop": root / "drops" / "planning" / "to_hub",
    }
    for code in SUPPLIERS:
        dirs[f"supplier:{code}:drop"] = root / "drops" / "suppliers" / code.lower() / "to_hub"
        dirs[f"supplier:{code}:outbox"] = root / "drops" / "suppliers" / code.lower() / "from_hub"
    for p in dirs.values():
        p.mkdir(parents=True, exist_ok=True)
    return dirs


def new_credentials() -> dict[str, Any]:
    """Fresh tokens and secrets for a world (never deterministic, never committed)."""

    def tok(prefix: str) -> str:
        return prefix + secrets.token_hex(16)

    return {
        "shopify": {
            ch: {"token": tok("shpat_"), "webhook_secret": secrets.token_hex(32)}
            for ch in CHANNEL_KEYS
        },
        "wms": {
            loc: {"token": tok("wms_"), "webhook_secret": secrets.token_hex(32)} for loc in WMS_KEYS
        },
        "carrier": {"api_key": tok("EZTK"), "webhook_secret": secrets.token_hex(32)},
        "control": {"token": tok("sbx_")},
        "smtp": {"user": "distrohub", "password": secrets.token_hex(16)},
    }


def write_json(path: Path, data: Any, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    if private:
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def systems_env(
    runtime: dict[str, Any], creds: dict[str, Any], dirs: dict[str, str], webhook_url: str | None
) -> dict[str, str]:
    """The discovery variables (see sandbox/README.md)."""
    urls = runtime["urls"]
    env: dict[str, str] = {}
    for ch, key in CHANNEL_KEYS.items():
        env[f"DISTROHUB_SHOPIFY_{key}_URL"] = urls[f"shopify:{ch}"]
        env[f"DISTROHUB_SHOPIFY_{key}_TOKEN"] = creds["shopify"][ch]["token"]
        env[f"DISTROHUB_SHOPIFY_{key}_WEBHOOK_SECRET"] = creds["shopify"][ch]["webhook_secret"]
        env[f"DISTROHUB_SHOPIFY_{key}_API_VERSION"] = runtime["shopify_api_version"]
    for loc, key in WMS_KEYS.items():
        env[f"DISTROHUB_WMS_{key}_URL"] = urls[f"wms:{loc}"]
        env[f"DISTROHUB_WMS_{key}_TOKEN"] = creds["wms"][loc]["token"]
        env[f"DISTROHUB_WMS_{key}_WEBHOOK_SECRET"] = creds["wms"][loc]["webhook_secret"]
    env["DISTROHUB_3PL_DROP_DIR"] = dirs["3pl:drop"]
    env["DISTROHUB_3PL_OUTBOX_DIR"] = dirs["3pl:outbox"]
    env["DISTROHUB_PLANNING_DROP_DIR"] = dirs["planning:drop"]
    for code in SUPPLIERS:
        env[f"DISTROHUB_SUPPLIER_{code}_DROP_DIR"] = dirs[f"supplier:{code}:drop"]
        env[f"DISTROHUB_SUPPLIER_{code}_OUTBOX_DIR"] = dirs[f"supplier:{code}:outbox"]
    env["DISTROHUB_CARRIER_EASYPOST_URL"] = urls["carrier"]
    env["DISTROHUB_CARRIER_EASYPOST_API_KEY"] = creds["carrier"]["api_key"]
    env["DISTROHUB_CARRIER_WEBHOOK_SECRET"] = creds["carrier"]["webhook_secret"]
    if webhook_url:
        env["DISTROHUB_WEBHOOK_URL"] = webhook_url
    if "smtp" in runtime["ports"] and "smtp" in creds:  # the mail relay (sandbox.smtp)
        env["DISTROHUB_SMTP_HOST"] = runtime["host"]
        env["DISTROHUB_SMTP_PORT"] = str(runtime["ports"]["smtp"])
        env["DISTROHUB_SMTP_USER"] = creds["smtp"]["user"]
        env["DISTROHUB_SMTP_PASSWORD"] = creds["smtp"]["password"]
        env["DISTROHUB_SMTP_SECURITY"] = "none"  # a local relay; a real one: starttls or tls
    env["DISTROHUB_SANDBOX_CONTROL_URL"] = urls["control"]
    env["DISTROHUB_SANDBOX_CONTROL_TOKEN"] = creds["control"]["token"]
    return env


def write_systems_env(path: Path, env: dict[str, str]) -> None:
    lines = ["# written by `distrohub sandbox up`; the sandbox's systems and credentials"]
    lines += [f"{k}={v}" for k, v in env.items()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out
