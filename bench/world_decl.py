"""The scale world's declarations: a copy of the project's, with as many locations and channels
as the scale asks for, and a copy of the dbt project generated from them.

The repository declares three locations (DC-EAST, DC-WEST, 3PL) and three storefront channels.
A scale of 12 locations adds WMS blocks DC-03 … DC-11 (one ``SystemComponent`` block each,
copied from DC-EAST's, as an operator adds a warehouse); channels above three add storefront
blocks CH04 … copied from the D2C store's; fewer than three keeps the first ones. Nothing in the
repository is edited: the blocks go to a temporary ``defs`` folder, and ``dbt_project/`` is
copied beside it with its sources and ``_generated_systems.sql`` regenerated for that folder
(:func:`dagster_project.transform.sources.write_sources`), so dbt builds the bench hub with
exactly what the product would generate for such a deployment.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from dagster_project.ingest.registry import DEFS_DIR, declared_systems
from dagster_project.transform.project import DBT_PROJECT_DIR
from dagster_project.transform.sources import write_sources

ZONES = ("EAST", "WEST", "CENTRAL")
#: what is not copied with dbt_project/ (build output, local logs, installed packages)
NOT_COPIED = ("target", "logs", "dbt_packages")


@dataclass(frozen=True)
class Location:
    code: str  # hub location code: DC-EAST, DC-03, 3PL
    system: str  # the declared system that is this location
    kind: str  # "dc" (a WMS) or "3pl"
    name: str  # the ERP warehouse's name (store locations carry the same name)
    zone: str  # shipping zone
    service_levels: tuple[str, ...]


@dataclass(frozen=True)
class Store:
    system: str  # shopify_b2b, ...
    code: str  # channel code: B2B, D2C, MARKETPLACE, CH04, ...
    number: int  # 1-based: the store's id space (ids 1<kind><number:02d>…)
    currency: str
    price_list: str
    selling_unit: str
    service_levels: tuple[str, ...]
    utc_offset: str  # the shop's time zone, as its timestamps show it


@dataclass(frozen=True)
class Declarations:
    defs_dir: Path
    project_dir: Path
    locations: tuple[Location, ...]
    stores: tuple[Store, ...]


#: names and time zones of the declared locations and stores (as the sandbox world has them)
KNOWN_NAMES = {
    "DC-EAST": "East Distribution Centre",
    "DC-WEST": "West Distribution Centre",
    "3PL": "Central 3PL (Midway Fulfilment)",
}
OFFSETS = {"shopify_b2b": "-05:00", "shopify_d2c": "-05:00", "shopify_marketplace": "+00:00"}


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def _dump(path: Path, docs: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False, width=100))


def _system_block(docs: list[dict], system: str) -> dict:
    for doc in docs:
        if (doc.get("attributes") or {}).get("system") == system:
            return doc
    raise LookupError(f"no block for system {system!r}")


def _renamed_block(
    template: dict, system: str, webhook_path: str, description: str, env: str
) -> dict:
    """A copy of ``template`` renamed to ``system``: its webhook path, pool and the environment
    variables of its URL and credentials (``<env>_URL``, ``_TOKEN``, ``_WEBHOOK_SECRET``)."""
    block = copy.deepcopy(template)
    block["attributes"].update(
        system=system,
        webhook_path=webhook_path,
        description=description,
        url_env=f"{env}_URL",
        credentials={"token": f"{env}_TOKEN", "webhook_secret": f"{env}_WEBHOOK_SECRET"},
        pool=system,
    )
    return block


def _wms_block(template: dict, number: int, zone: str) -> dict:
    code = f"DC-{number:02d}"
    block = _renamed_block(
        template,
        f"wms_dc_{number:02d}",
        f"wms/dc-{number:02d}",
        f"The WMS of {code} (bench scale world).",
        f"DISTROHUB_WMS_DC_{number:02d}",
    )
    attrs = block["attributes"]
    attrs["settings"] = {**attrs["settings"], "location": code, "shipping_zone": zone}
    return block


def _store_block(template: dict, number: int) -> dict:
    code = f"CH{number:02d}"
    block = _renamed_block(
        template,
        f"shopify_{code.lower()}",
        f"shopify/{code.lower()}",
        f"Storefront {code} (bench scale world).",
        f"DISTROHUB_SHOPIFY_{code}",
    )
    attrs = block["attributes"]
    attrs["settings"]["channel"]["code"] = code
    attrs["settings"]["channel"]["allocation"]["priority"] = number
    return block


def write_declarations(dest: Path, locations: int, channels: int) -> Declarations:
    """The bench's ``defs`` folder and dbt project under ``dest`` (replaced if present)."""
    if locations < 3:
        raise ValueError(
            f"the scale world keeps the 3 declared locations (DC-EAST, DC-WEST, 3PL) and adds "
            f"WMS blocks to them: ask for 3 or more locations, not {locations}"
        )
    if channels < 1:
        raise ValueError(f"the scale world needs at least one channel, not {channels}")
    if dest.exists():
        shutil.rmtree(dest)
    defs_dir = dest / "defs"
    for path in sorted(DEFS_DIR.rglob("defs.yaml")):
        target = defs_dir / path.relative_to(DEFS_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)

    warehouses = defs_dir / "systems" / "warehouses" / "defs.yaml"
    wms_docs = _docs(warehouses)
    template = _system_block(wms_docs, "wms_dc_east")
    extra = [_wms_block(template, n, ZONES[n % 3]) for n in range(3, locations)]
    if extra:
        _dump(defs_dir / "systems" / "bench_warehouses" / "defs.yaml", extra)

    storefronts = defs_dir / "systems" / "storefronts" / "defs.yaml"
    store_docs = _docs(storefronts)
    kept = store_docs[:channels]
    d2c = _system_block(store_docs, "shopify_d2c")
    kept += [_store_block(d2c, n) for n in range(len(store_docs) + 1, channels + 1)]
    _dump(storefronts, kept)

    project_dir = dest / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project_dir, ignore=shutil.ignore_patterns(*NOT_COPIED))
    write_sources(defs_dir, project_dir)

    systems = declared_systems(defs_dir)
    locs: list[Location] = []
    stores: list[Store] = []
    for name, (config, _streams) in systems.items():
        settings = config.settings
        if settings.get("location"):
            code = str(settings["location"])
            number = code.removeprefix("DC-")
            locs.append(
                Location(
                    code=code,
                    system=name,
                    kind="dc" if config.kind == "wms_rest" else "3pl",
                    name=KNOWN_NAMES.get(code, f"Distribution Centre {number}"),
                    zone=str(settings.get("shipping_zone") or "CENTRAL"),
                    service_levels=tuple(settings.get("service_levels") or ()),
                )
            )
        channel = settings.get("channel")
        if config.kind == "shopify" and channel:
            stores.append(
                Store(
                    system=name,
                    code=channel["code"],
                    number=0,
                    currency=channel["currency"],
                    price_list=channel["price_list"],
                    selling_unit=channel.get("selling_unit", "EA"),
                    service_levels=tuple(channel["service_levels"]),
                    utc_offset=OFFSETS.get(name, "-05:00"),
                )
            )
    order = {"DC-EAST": 0, "DC-WEST": 1, "3PL": 2}
    locs.sort(key=lambda loc: (order.get(loc.code, 3), loc.code))
    priority = {doc["attributes"]["system"]: i for i, doc in enumerate(kept)}
    stores.sort(key=lambda s: priority[s.system])
    numbered = tuple(replace(s, number=i + 1) for i, s in enumerate(stores))
    return Declarations(defs_dir, project_dir, tuple(locs), numbered)
