"""Seed the real ERP (Tryton, over JSON-RPC) from the sandbox world of a seed.

The sandbox systems and the ERP must tell one story: the same
``generate_world(seed, skus, ...)`` that the sandbox storefronts, WMS and EDI
partners serve is written into Tryton here, as an operator would key it in:

============================  ===========================================================
world                         Tryton
============================  ===========================================================
currencies, fx rate           ``currency.currency`` (company currency from the template:
                              USD) and a rate for each other currency
units EA, case packs          ``Unit`` and one ``Case of N`` unit per case pack (Units)
payment terms                 ``account.invoice.payment_term`` by name (Tryton ships
                              "Net 15/30/60 days"); an early-payment discount is written
                              in the term's description (no discount field in 8.2)
locations                     one warehouse per location, ``code`` = location code
                              (DC-EAST, DC-WEST, 3PL), with input/output/storage zones
item categories               ``product.category`` (plus the template's "Goods" account
                              category)
items                         one template + one variant per SKU: ``code`` = SKU, list
                              price, cost price, sale/purchase unit, supplier and part
                              number; kits and drop-ship items are plain goods
suppliers, customers          ``party.party`` with ``code`` = world code, address,
                              e-mail, phone, payment term, currency; a credit limit is
                              recorded as party category ``Credit limit / USD 25000.00``
                              (Tryton 8.2 has a credit-limit field only in the module
                              ``account_credit_limit``, which is not installed)
price lists                   ``product.price_list`` named ``[CODE] name``: one line per
                              SKU and quantity break (``formula`` = the price), then a
                              catch-all ``unit_price`` (list price) line
customer price lists          the party's ``sale_price_list`` = its world price list
contract prices               per customer with contracts, a price list
                              ``[CONTRACT customer] Contract prices`` holding the contract
                              lines valid at the epoch (no catch-all line); it is not the
                              party's sale price list (a Tryton list cannot fall back to
                              another). Tryton 8.2 price lines carry no validity dates:
                              contracts not valid at the epoch are counted in the report
book stock (``erp_stock``)    one done ``stock.inventory`` per warehouse (plus what the
                              history's shipped sales then take out, so the books end at
                              ``erp_stock``)
ERP sales orders (history)    ``sale.sale`` with ``reference`` = storefront order key,
                              quoted and confirmed; shipped ones with their shipments
                              done (``shipment_state`` sent); invoicing manual
open purchase orders          ``purchase.purchase`` quoted and confirmed, ``reference`` =
                              PO number
============================  ===========================================================

Every step searches before it creates (by code, name or reference), so
seeding twice adds nothing. Records are created many per call (see the costs
in docs/architecture.md, Tryton). Nothing here imports the product (``dagster_project``): this
module speaks JSON-RPC through its own few lines of httpx.

Run::

    python -m sandbox.erp_seed --seed 7 --skus 50

with ``DISTROHUB_TRYTON_URL`` (``http://127.0.0.1:PORT/DB/``),
``DISTROHUB_TRYTON_USER`` and ``DISTROHUB_TRYTON_PASSWORD`` set (``distrohub
erp up`` writes them to ``$DISTROHUB_STATE_DIR/erp/erp.env``). Prints a JSON
report on stdout.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from sandbox.world import World
from sandbox.worldgen import generate_world

BATCH = 500
INVENTORY_LINES = 250
Progress = Callable[[str], None]


class SeedError(RuntimeError):
    """Seeding failed; the message names the step, the record and Tryton's words."""


# --------------------------------------------------------------------------- RPC
def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dt.timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        kind = value.get("__class__")
        if kind == "Decimal":
            return Decimal(value["decimal"])
        if kind == "date":
            return dt.date(value["year"], value["month"], value["day"])
        if kind == "datetime":
            return dt.datetime(
                value["year"],
                value["month"],
                value["day"],
                value["hour"],
                value["minute"],
                value["second"],
                value["microsecond"],
                tzinfo=dt.UTC,
            )
        return {k: _decode(v) for k, v in value.items()}
    return value


class Rpc:
    """The few JSON-RPC calls the seeder needs: login, then ``model.*`` with the context."""

    def __init__(self, url: str, user: str, password: str, timeout: float = 300.0) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.http = httpx.Client(timeout=timeout)
        self.calls = 0
        try:
            result = self._post("common.db.login", [user, {"password": password}, "en"], None)
        except SeedError as exc:
            raise SeedError(
                f"login as {user!r} at {self.url} failed ({exc}); check "
                "DISTROHUB_TRYTON_USER/DISTROHUB_TRYTON_PASSWORD"
            ) from None
        token = base64.b64encode(f"{user}:{result[0]}:{result[1]}".encode()).decode()
        self.auth = f"Session {token}"
        prefs = self._post("model.res.user.get_preferences", [True, {}], self.auth)
        self.context = {k: v for k, v in prefs.items() if k != "locale"}

    def _post(self, method: str, params: list[Any], auth: str | None) -> Any:
        self.calls += 1
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = auth
        try:
            r = self.http.post(
                self.url + "rpc/",
                headers=headers,
                content=json.dumps({"id": self.calls, "method": method, "params": _encode(params)}),
            )
        except httpx.HTTPError as exc:
            raise SeedError(
                f"{method}: cannot reach Tryton at {self.url}: {exc}; is it "
                "running? (`distrohub erp status`)"
            ) from exc
        if r.status_code != 200:
            raise SeedError(f"{method}: HTTP {r.status_code} from {self.url}")
        payload = r.json()
        if payload.get("error"):
            error = payload["error"]
            if isinstance(error, list) and len(error) == 2 and isinstance(error[1], list):
                text = " ".join(str(a) for a in error[1][:2] if a)
                raise SeedError(f"{method}: Tryton {error[0]}: {text}")
            raise SeedError(f"{method}: Tryton error: {str(error)[:500]}")
        return _decode(payload["result"])

    def __call__(self, model: str, method: str, *args: Any, **context: Any) -> Any:
        ctx = dict(self.context, **context)
        return self._post(f"model.{model}.{method}", [*args, ctx], self.auth)

    def search_read(
        self, model: str, domain: list[Any], fields: Sequence[str], **context: Any
    ) -> list[dict[str, Any]]:
        return self(model, "search_read", domain, 0, None, [["id", "ASC"]], list(fields), **context)

    def create(self, model: str, values: Sequence[dict[str, Any]]) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(values), BATCH):
            ids += self(model, "create", list(values[start : start + BATCH]))
        return ids

    def close(self) -> None:
        self.http.close()


# ------------------------------------------------------------------------ report
@dataclass
class SeedReport:
    seed: int
    skus: int
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    existing: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rpc_calls: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "skus": self.skus,
            "created": dict(self.created),
            "existing": dict(self.existing),
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "notes": self.notes,
            "rpc_calls": self.rpc_calls,
        }


# ------------------------------------------------------------------------ seeder
def seed_erp(rpc: Rpc, world: World, progress: Progress | None = None) -> SeedReport:
    """Write ``world`` into the ERP behind ``rpc``; idempotent; returns what it did."""
    return _Seeder(rpc, world, progress or (lambda _m: None)).run()


def price_list_name(code: str, name: str) -> str:
    return f"[{code}] {name}"


def contract_list_name(customer: str) -> str:
    """The price list holding ``customer``'s contract prices (not its sale price list)."""
    return f"[CONTRACT {customer}] Contract prices"


def credit_limit_category(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:.2f}"


CREDIT_LIMIT_PARENT = "Credit limit"


class _Seeder:
    def __init__(self, rpc: Rpc, world: World, say: Progress) -> None:
        self.rpc = rpc
        self.w = world
        self.say = say
        self.report = SeedReport(seed=world.seed, skus=len(world.items))
        self.ids: dict[str, dict[str, int]] = defaultdict(dict)
        self.epoch_day = min(world.epoch.date(), dt.date.today())

    def run(self) -> SeedReport:
        for stage in (
            self._company,
            self._units,
            self._payment_terms,
            self._warehouses,
            self._categories,
            self._parties,
            self._items,
            self._price_lists,
            self._customer_price_lists,
            self._stock,
            self._sales,
            self._purchases,
        ):
            name = stage.__name__.lstrip("_")
            started = time.monotonic()
            self.say(f"seeding {name}")
            try:
                stage()
            except SeedError as exc:
                raise SeedError(f"seeding {name}: {exc}") from None
            self.report.seconds[name] = time.monotonic() - started
        self.report.rpc_calls = self.rpc.calls
        return self.report

    def _count(self, what: str, created: int, existing: int) -> None:
        self.report.created[what] += created
        self.report.existing[what] += existing

    # -- company and currencies ---------------------------------------------
    def _company(self) -> None:
        (company,) = self.rpc.search_read("company.company", [], ["currency", "party"])
        self.company = company["id"]
        currencies = {
            c["code"]: c["id"]
            for c in self.rpc.search_read("currency.currency", [], ["code"], active_test=False)
        }
        (base,) = [code for code, cid in currencies.items() if cid == company["currency"]]
        self.base_currency = base
        for cur in self.w.currencies:
            if cur.code in currencies:
                self._count("currencies", 0, 1)
                continue
            rate = self._rate(base, cur.code)
            (cid,) = self.rpc.create(
                "currency.currency",
                [
                    {
                        "name": cur.name,
                        "code": cur.code,
                        "symbol": cur.code,
                        "rounding": cur.rounding,
                        "digits": 2,
                        "rates": [["create", [{"date": dt.date(2000, 1, 1), "rate": rate}]]],
                    }
                ],
            )
            currencies[cur.code] = cid
            self._count("currencies", 1, 0)
        self.ids["currency"] = currencies
        self.company_party = company["party"]

    def _rate(self, base: str, code: str) -> Decimal:
        """Tryton's rate of ``code`` against the company currency (units per base unit)."""
        if f"{base}/{code}" in self.w.fx_rates:
            return self.w.fx_rates[f"{base}/{code}"]
        if f"{code}/{base}" in self.w.fx_rates:
            return (Decimal(1) / self.w.fx_rates[f"{code}/{base}"]).quantize(Decimal("1e-6"))
        raise SeedError(f"no exchange rate between {base} and {code} in the world")

    # -- units ----------------------------------------------------------------
    def _units(self) -> None:
        uoms = self.rpc.search_read(
            "product.uom", [], ["name", "symbol", "category", "factor"], active_test=False
        )
        unit = next(u for u in uoms if u["name"] == "Unit")
        self.ids["uom"]["EA"] = unit["id"]
        by_name = {u["name"]: u["id"] for u in uoms}
        packs = sorted({it.case_pack for it in self.w.items if it.case_pack > 1})
        todo = []
        for pack in packs:
            name = f"Case of {pack}"
            if name in by_name:
                self.ids["uom"][name] = by_name[name]
                continue
            todo.append(
                {
                    "name": name,
                    "symbol": f"cs{pack}",
                    "category": unit["category"],
                    "factor": float(pack),
                    "rate": round(1.0 / pack, 12),
                    "rounding": 1.0,
                    "digits": 0,
                }
            )
        for values, uid in zip(todo, self.rpc.create("product.uom", todo), strict=True):
            self.ids["uom"][values["name"]] = uid
        self._count("units", len(todo), len(packs) - len(todo) + 1)

    # -- payment terms ----------------------------------------------------------
    def _payment_terms(self) -> None:
        existing = {
            t["name"]: t["id"]
            for t in self.rpc.search_read(
                "account.invoice.payment_term", [], ["name"], active_test=False
            )
        }
        for term in self.w.payment_terms:
            if term.name in existing:
                self.ids["term"][term.code] = existing[term.name]
                self._count("payment_terms", 0, 1)
                continue
            line: dict[str, Any] = {"type": "remainder"}
            if term.net_days:
                line["relativedeltas"] = [["create", [{"days": term.net_days}]]]
            values: dict[str, Any] = {"name": term.name, "lines": [["create", [line]]]}
            if term.discount_percent:
                values["description"] = (
                    f"{term.code}: {term.discount_percent}% discount if paid within "
                    f"{term.discount_days} days, net {term.net_days} days"
                )
            (tid,) = self.rpc.create("account.invoice.payment_term", [values])
            self.ids["term"][term.code] = tid
            self._count("payment_terms", 1, 0)

    # -- warehouses ----------------------------------------------------------------
    def _warehouses(self) -> None:
        found = self.rpc.search_read(
            "stock.location",
            [["type", "=", "warehouse"]],
            ["code", "name", "storage_location", "lost_found_location"],
            active_test=False,
        )
        by_code = {w["code"]: w for w in found}
        lost_found = next(
            (w["lost_found_location"] for w in found if w["lost_found_location"]), None
        )
        spare = by_code.pop("WH", None)  # the template's default warehouse becomes the first
        for loc in self.w.locations:
            if loc.code in by_code:
                wh = by_code[loc.code]
                self._count("warehouses", 0, 1)
            elif spare is not None:
                self.rpc(
                    "stock.location", "write", [spare["id"]], {"code": loc.code, "name": loc.name}
                )
                wh, spare = spare, None
                self._count("warehouses", 1, 0)
            else:
                zones = self.rpc.create(
                    "stock.location",
                    [
                        {
                            "name": f"{loc.code} {zone}",
                            "code": f"{loc.code}-{zone[:3].upper()}",
                            "type": "storage",
                        }
                        for zone in ("Input", "Output", "Storage")
                    ],
                )
                values = {
                    "name": loc.name,
                    "code": loc.code,
                    "type": "warehouse",
                    "input_location": zones[0],
                    "output_location": zones[1],
                    "storage_location": zones[2],
                }
                if lost_found:
                    values["lost_found_location"] = lost_found
                (wid,) = self.rpc.create("stock.location", [values])
                wh = {"id": wid, "code": loc.code, "storage_location": zones[2]}
                self._count("warehouses", 1, 0)
            self.ids["warehouse"][loc.code] = wh["id"]
            self.ids["storage"][loc.code] = wh["storage_location"]
        # damaged customer returns are booked into a warehouse's waste location (Tryton's
        # return shipment accepts storage or a waste location): the Lost and Found
        if lost_found:
            wastes = {
                w["id"]: w["waste_locations"]
                for w in self.rpc.search_read(
                    "stock.location",
                    [["id", "in", list(self.ids["warehouse"].values())]],
                    ["waste_locations"],
                    active_test=False,
                )
            }
            todo = [wid for wid, locs in wastes.items() if lost_found not in locs]
            if todo:
                self.rpc(
                    "stock.location", "write", todo, {"waste_locations": [["add", [lost_found]]]}
                )

    # -- categories --------------------------------------------------------------------
    def _categories(self) -> None:
        cats = self.rpc.search_read("product.category", [], ["name", "accounting"])
        self.goods_category = next((c["id"] for c in cats if c["accounting"]), None)
        if self.goods_category is None:
            raise SeedError(
                "no accounting product category (the template's 'Goods'); "
                "rebuild the template: `distrohub erp up --rebuild-template`"
            )
        by_name = {c["name"]: c["id"] for c in cats if not c["accounting"]}
        names = sorted({it.category for it in self.w.items} - set(by_name))
        for name, cid in zip(
            names, self.rpc.create("product.category", [{"name": n} for n in names]), strict=True
        ):
            by_name[name] = cid
        self.ids["category"] = by_name
        self._count("categories", len(names), len(by_name) - len(names))

    # -- parties ---------------------------------------------------------------------
    def _parties(self) -> None:
        self._countries()
        self._credit_categories()
        existing = {
            p["code"]: p["id"]
            for p in self.rpc.search_read(
                "party.party",
                [
                    [
                        "code",
                        "in",
                        [*(s.code for s in self.w.suppliers), *(c.code for c in self.w.customers)],
                    ]
                ],
                ["code"],
                active_test=False,
            )
        }
        todo: list[dict[str, Any]] = []
        for s in self.w.suppliers:
            if s.code in existing:
                continue
            todo.append(
                {
                    "code": s.code,
                    "name": s.name,
                    "supplier_payment_term": self.ids["term"][s.payment_term],
                    "supplier_currency": self.ids["currency"][s.currency],
                    "addresses": [["create", [{}]]],
                }
            )
        for c in self.w.customers:
            if c.code in existing:
                continue
            values: dict[str, Any] = {
                "code": c.code,
                "name": c.name,
                "customer_payment_term": self.ids["term"][c.payment_term],
                "customer_currency": self.ids["currency"][c.currency],
                "addresses": [["create", [self._address(c.address)]]],
                "contact_mechanisms": [
                    [
                        "create",
                        [{"type": "email", "value": c.email}, {"type": "phone", "value": c.phone}],
                    ]
                ],
            }
            if c.credit_limit > 0:
                values["categories"] = [
                    ["add", [self._credit_category(c.currency, c.credit_limit)]]
                ]
            todo.append(values)
        for values, pid in zip(todo, self.rpc.create("party.party", todo), strict=True):
            existing[values["code"]] = pid
        self.ids["party"] = existing
        total = len(self.w.suppliers) + len(self.w.customers)
        self._count("parties", len(todo), total - len(todo))

    def _countries(self) -> None:
        codes = sorted(
            {c.address.country for c in self.w.customers}
            | {loc.address.country for loc in self.w.locations}
        )
        found = {
            c["code"]: c["id"]
            for c in self.rpc.search_read(
                "country.country", [["code", "in", codes]], ["code"], active_test=False
            )
        }
        missing = [c for c in codes if c not in found]
        for code, cid in zip(
            missing,
            self.rpc.create("country.country", [{"code": code, "name": code} for code in missing]),
            strict=True,
        ):
            found[code] = cid
        self.ids["country"] = found
        regions = sorted(
            {
                (a.country, a.region)
                for a in [
                    *(c.address for c in self.w.customers),
                    *(loc.address for loc in self.w.locations),
                ]
                if a.region
            }
        )
        wanted = [f"{country}-{region}" for country, region in regions]
        subs = {
            s["code"]: s["id"]
            for s in self.rpc.search_read(
                "country.subdivision", [["code", "in", wanted]], ["code"], active_test=False
            )
        }
        todo = [
            {
                "code": f"{country}-{region}",
                "name": region,
                "type": "state",
                "country": found[country],
            }
            for country, region in regions
            if f"{country}-{region}" not in subs
        ]
        for values, sid in zip(todo, self.rpc.create("country.subdivision", todo), strict=True):
            subs[values["code"]] = sid
        self.ids["subdivision"] = subs

    def _address(self, a: Any) -> dict[str, Any]:
        street = a.line1 + (f"\n{a.line2}" if a.line2 else "")
        values = {
            "street": street,
            "city": a.city,
            "postal_code": a.postal_code,
            "country": self.ids["country"][a.country],
        }
        if a.region:
            values["subdivision"] = self.ids["subdivision"][f"{a.country}-{a.region}"]
        return values

    def _credit_categories(self) -> None:
        cats = self.rpc.search_read("party.category", [], ["name", "parent"], active_test=False)
        parent = next(
            (c["id"] for c in cats if c["name"] == CREDIT_LIMIT_PARENT and not c["parent"]), None
        )
        if parent is None:
            (parent,) = self.rpc.create("party.category", [{"name": CREDIT_LIMIT_PARENT}])
        self.credit_parent = parent
        self.ids["credit"] = {c["name"]: c["id"] for c in cats if c["parent"] == parent}

    def _credit_category(self, currency: str, amount: Decimal) -> int:
        name = credit_limit_category(currency, amount)
        if name not in self.ids["credit"]:
            (cid,) = self.rpc.create(
                "party.category", [{"name": name, "parent": self.credit_parent}]
            )
            self.ids["credit"][name] = cid
        return self.ids["credit"][name]

    # -- items ---------------------------------------------------------------------------
    def _items(self) -> None:
        existing = {
            p["code"]: p["id"]
            for p in self.rpc.search_read(
                "product.product",
                [["code", "in", [it.sku for it in self.w.items]]],
                ["code"],
                active_test=False,
            )
        }
        ea = self.ids["uom"]["EA"]
        todo = []
        for it in self.w.items:
            if it.sku in existing:
                continue
            if it.currency != self.base_currency:
                raise SeedError(
                    f"item {it.sku} is priced in {it.currency}, the ERP company "
                    f"in {self.base_currency}: Tryton keeps one list price per "
                    "company currency"
                )
            supplier = {"party": self.ids["party"][it.supplier], "code": it.supplier_part or None}
            todo.append(
                {
                    "name": it.name,
                    # no kit (BOM) module is installed: a kit is sold as a service line,
                    # so it never moves stock of its own
                    "type": "service" if it.is_kit else "goods",
                    "default_uom": ea,
                    "sale_uom": ea,
                    "purchase_uom": ea,
                    "salable": True,
                    "purchasable": True,
                    "list_price": it.list_price,
                    "account_category": self.goods_category,
                    "categories": [["add", [self.ids["category"][it.category]]]],
                    "products": [
                        ["create", [{"suffix_code": it.sku, "cost_price": it.cost_price}]]
                    ],
                    "product_suppliers": [["create", [supplier]]],
                }
            )
        self.rpc.create("product.template", todo)
        found = self.rpc.search_read(
            "product.product",
            [["code", "in", [it.sku for it in self.w.items]]],
            ["code"],
            active_test=False,
        )
        self.ids["product"] = {p["code"]: p["id"] for p in found}
        self._count("items", len(todo), len(self.w.items) - len(todo))

    # -- price lists ------------------------------------------------------------------
    def _price_lists(self) -> None:
        existing = {
            p["name"]: p["id"]
            for p in self.rpc.search_read("product.price_list", [], ["name"], active_test=False)
        }
        self.ids["price_list"] = {}
        for pl in self.w.price_lists:
            name = price_list_name(pl.code, pl.name)
            if name in existing:
                self.ids["price_list"][pl.code] = existing[name]
                self._count("price_lists", 0, 1)
                continue
            lines = self._lines((ln.sku, ln.min_quantity, ln.price) for ln in pl.lines)
            (pid,) = self.rpc.create(
                "product.price_list",
                [
                    {
                        "name": name,
                        "price": "list_price",
                        "unit": "product_default",
                        "lines": [["create", lines]],
                    }
                ],
            )
            self.ids["price_list"][pl.code] = pid
            self._count("price_lists", 1, 0)
            if pl.currency != self.base_currency:
                self.report.notes.append(
                    f"price list {pl.code} holds {pl.currency} prices; Tryton 8.2 price lists "
                    f"have no currency and read them as {self.base_currency} when it prices "
                    "a sale itself"
                )

    def _lines(
        self, rows: Iterable[tuple[str, int, Decimal]], catch_all: bool = True
    ) -> list[dict[str, Any]]:
        """Price list lines: per SKU the highest quantity break first, then a catch-all."""
        ordered = sorted(rows, key=lambda r: (self.w.sku_index(r[0]), -r[1]))
        lines = [
            {
                "sequence": i,
                "product": self.ids["product"][sku],
                "quantity": float(qty) if qty > 1 else None,
                "formula": str(price),
            }
            for i, (sku, qty, price) in enumerate(ordered, start=1)
        ]
        if catch_all:  # no line matched: the list price
            lines.append({"sequence": len(lines) + 1, "formula": "unit_price"})
        return lines

    def _customer_price_lists(self) -> None:
        """Each customer's ``sale_price_list``, and a contract price list per customer.

        Tryton 8.2 gives a party one sale price list and a price list cannot
        fall back to another; folding the contract lines into a copy of the
        customer's list would grow as customers x SKUs (90 copies of 970 lines
        took 17 s at 1,000 SKUs). So contracts live in their own list per
        customer, ``[CONTRACT code] Contract prices``, without a catch-all
        line, and the party keeps the world's price list. The hub applies the
        precedence (contract, then price list); orders carry explicit prices.
        """
        existing = {
            p["name"]: p["id"]
            for p in self.rpc.search_read("product.price_list", [], ["name"], active_test=False)
        }
        contracts: dict[str, list[Any]] = defaultdict(list)
        at = self.w.epoch
        skipped = 0
        for cp in self.w.contract_prices:
            if cp.valid_from <= at and (cp.valid_to is None or at < cp.valid_to):
                contracts[cp.customer].append(cp)
            else:
                skipped += 1
        if skipped:
            self.report.notes.append(
                f"{skipped} contract prices not valid at the epoch were not seeded (Tryton 8.2 "
                "price list lines have no validity dates)"
            )
        todo = []
        for code, rows in contracts.items():
            name = contract_list_name(code)
            if name in existing:
                self._count("contract_price_lists", 0, 1)
                continue
            lines = self._lines([(cp.sku, cp.min_quantity, cp.price) for cp in rows],
                                catch_all=False)  # fmt: skip
            todo.append({"name": name, "price": "list_price", "unit": "product_default",
                         "lines": [["create", lines]]})  # fmt: skip
            self._count("contract_price_lists", 1, 0)
            self._count("contract_prices", len(rows), 0)
        if todo:
            self.rpc.create("product.price_list", todo)
        by_list: dict[int, list[int]] = defaultdict(list)
        for c in self.w.customers:
            if c.price_list:
                by_list[self.ids["price_list"][c.price_list]].append(self.ids["party"][c.code])
        writes: list[Any] = []
        for price_list, parties in by_list.items():
            writes += [parties, {"sale_price_list": price_list}]
        if writes:
            self.rpc("party.party", "write", *writes)

    # -- stock ------------------------------------------------------------------------
    def _stock(self) -> None:
        """Book stock per warehouse as done inventories of at most INVENTORY_LINES lines.

        Each inventory is confirmed on its own: Tryton confirms one in time
        linear in its lines, several in one call far slower (measured: 2,000
        lines in three inventories confirmed together took 85 s; in chunks of
        250, 2 s per chunk). A product already counted by a done inventory of
        the warehouse is not counted again.
        """
        wanted: dict[tuple[str, str], int] = defaultdict(int)
        for b in self.w.erp_stock:
            wanted[(b.sku, b.location)] += b.quantity
        # the history's shipped sales then take their quantities out, ending at erp_stock
        for key, quantity in self._shipped_quantities().items():
            wanted[key] += quantity
        storages = {self.ids["storage"][code]: code for code in self.ids["storage"]}
        counted = {
            (row["product"], row["inventory."]["location"])
            for row in self.rpc.search_read(
                "stock.inventory.line",
                [["inventory.state", "=", "done"], ["inventory.location", "in", list(storages)]],
                ["product", "inventory.location"],
            )
        }
        per_location: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for (sku, code), quantity in sorted(wanted.items()):
            storage, product = self.ids["storage"][code], self.ids["product"][sku]
            if (product, storage) in counted:
                self._count("stock_lines", 0, 1)
                continue
            per_location[storage].append({"product": product, "quantity": float(quantity)})
        for storage, lines in per_location.items():
            for start in range(0, len(lines), INVENTORY_LINES):
                chunk = lines[start : start + INVENTORY_LINES]
                (inventory,) = self.rpc.create("stock.inventory", [{
                    "location": storage, "date": self.epoch_day - dt.timedelta(days=1),
                    "empty_quantity": "keep", "lines": [["create", chunk]],
                }])  # fmt: skip
                self.rpc("stock.inventory", "confirm", [inventory])
                self._count("inventories", 1, 0)
                self._count("stock_lines", len(chunk), 0)

    def _shipped_quantities(self) -> dict[tuple[str, str], int]:
        """Base units shipped by the history's sales whose shipment is done."""
        shipped: dict[tuple[str, str], int] = defaultdict(int)
        for so in self.w.erp_sales_orders:
            if so.shipment_state != "done" or so.state == "cancelled":
                continue
            for ln in so.lines:
                item = self.w.item(ln.sku)
                if item.is_kit:
                    continue
                shipped[(ln.sku, so.warehouse)] += ln.quantity * self._pack(ln.unit, item)
        return shipped

    @staticmethod
    def _pack(unit: str, item: Any) -> int:
        return item.case_pack if unit == "CS" and item.case_pack > 1 else 1

    # -- sales (the history's ERP sales orders) ----------------------------------------
    def _sales(self) -> None:
        """The ERP sales orders made from storefront orders before the epoch.

        Lines as the storefront sold them (a ``Case of N`` unit for case
        sales), the promotion discount and the shipping plus tax as lines
        without product, so the ERP total equals the world's. Sales are quoted
        and confirmed (``processing``); those the world has shipped
        (``shipment_state`` done) get their outgoing shipments processed to
        done, dated on the order, so Tryton shows ``shipment_state`` ``sent``.
        Invoicing is ``manual`` (the world holds no invoices), and Tryton
        moves a sale to ``done`` only once it is invoiced: a world ``done``
        sale is therefore ``processing`` + ``sent`` here. Cancelled ones are
        cancelled drafts.
        """
        refs = sorted({so.reference for so in self.w.erp_sales_orders})
        found: dict[str, int] = defaultdict(int)
        for row in self.rpc.search_read("sale.sale", [["reference", "in", refs]], ["reference"]):
            found[row["reference"]] += 1
        todo: list[tuple[Any, dict[str, Any]]] = []
        for so in self.w.erp_sales_orders:  # duplicates in the world are seeded as duplicates
            if found[so.reference] > 0:
                found[so.reference] -= 1
                continue
            todo.append((so, self._sale_values(so)))
        ids = self.rpc.create("sale.sale", [values for _, values in todo]) if todo else []
        by_state: dict[str, list[int]] = defaultdict(list)
        for (so, _), sid in zip(todo, ids, strict=True):
            by_state["cancelled" if so.state == "cancelled" else "open"].append(sid)
        if by_state["cancelled"]:
            self.rpc("sale.sale", "cancel", by_state["cancelled"])
        if by_state["open"]:
            self.rpc("sale.sale", "quote", by_state["open"])
            self.rpc("sale.sale", "confirm", by_state["open"])
        to_ship = [
            (so, sid)
            for (so, _), sid in zip(todo, ids, strict=True)
            if so.shipment_state == "done" and so.state != "cancelled"
        ]
        self._ship(to_ship)
        self._count("sales_orders", len(todo), len(self.w.erp_sales_orders) - len(todo))

    def _sale_values(self, so: Any) -> dict[str, Any]:
        party = self.ids["party"][so.customer]
        address = self._first_address(party)
        customer = self.w.customer(so.customer)
        lines: list[dict[str, Any]] = []
        amount = Decimal("0.00")
        for ln in so.lines:
            item = self.w.item(ln.sku)
            pack = self._pack(ln.unit, item)
            unit = self.ids["uom"][f"Case of {pack}"] if pack > 1 else self.ids["uom"]["EA"]
            lines.append(
                {
                    "type": "line",
                    "product": self.ids["product"][ln.sku],
                    "quantity": float(ln.quantity),
                    "unit": unit,
                    "unit_price": ln.unit_price,
                }
            )
            amount += ln.unit_price * ln.quantity
            if ln.discount:
                lines.append(
                    {
                        "type": "line",
                        "quantity": 1.0,
                        "unit_price": -ln.discount,
                        "description": f"Promotion discount on {ln.sku}",
                    }
                )
                amount -= ln.discount
        if so.total != amount:
            lines.append(
                {
                    "type": "line",
                    "quantity": 1.0,
                    "unit_price": so.total - amount,
                    "description": "Shipping and tax (as charged by the storefront)",
                }
            )
        return {
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "reference": so.reference,
            "description": f"{so.channel} order {so.reference}",
            "sale_date": so.order_date.date(),
            "currency": self.ids["currency"][so.currency],
            "warehouse": self.ids["warehouse"][so.warehouse],
            "payment_term": self.ids["term"][customer.payment_term],
            "invoice_method": "manual",
            "lines": [["create", lines]],
        }

    def _ship(self, sales: list[tuple[Any, int]]) -> None:
        """Process the outgoing shipments of these sales to done, dated on their order."""
        if not sales:
            return
        rows = self.rpc.search_read(
            "sale.sale", [["id", "in", [sid for _, sid in sales]]], ["shipments"]
        )
        day = {sid: so.order_date.date() for so, sid in sales}
        writes: list[Any] = []
        shipments: list[int] = []
        for row in rows:
            if row["shipments"]:
                writes += [row["shipments"], {"effective_date": day[row["id"]]}]
                shipments += row["shipments"]
        if not shipments:
            return
        self.rpc("stock.shipment.out", "write", *writes)
        for step in ("assign_force", "pick", "pack", "do"):
            self.rpc("stock.shipment.out", step, shipments)
        self._count("shipments_done", len(shipments), 0)

    # -- purchases --------------------------------------------------------------------
    def _purchases(self) -> None:
        refs = [po.number for po in self.w.open_purchase_orders]
        existing = {
            p["reference"]: p
            for p in self.rpc.search_read(
                "purchase.purchase", [["reference", "in", refs]], ["reference", "state"]
            )
        }
        todo = []
        for po in self.w.open_purchase_orders:
            if po.number in existing:
                continue
            party = self.ids["party"][po.supplier]
            todo.append(
                {
                    "party": party,
                    "invoice_address": self._first_address(party),
                    "reference": po.number,
                    "description": f"{po.number} ({po.state} at epoch)",
                    "purchase_date": po.order_date.date(),
                    "currency": self.ids["currency"][po.currency],
                    "warehouse": self.ids["warehouse"][po.location],
                    "payment_term": self.ids["term"][self.w.supplier(po.supplier).payment_term],
                    "lines": [
                        [
                            "create",
                            [
                                {
                                    "type": "line",
                                    "product": self.ids["product"][ln.sku],
                                    "quantity": float(ln.quantity),
                                    "unit": self.ids["uom"]["EA"],
                                    "unit_price": ln.unit_cost,
                                    "delivery_date": po.expected_date.date(),
                                }
                                for ln in po.lines
                            ],
                        ]
                    ],
                }
            )
        ids = self.rpc.create("purchase.purchase", todo) if todo else []
        drafts = ids + [p["id"] for p in existing.values() if p["state"] == "draft"]
        if drafts:
            self.rpc("purchase.purchase", "quote", drafts)
        quoted = drafts + [p["id"] for p in existing.values() if p["state"] == "quotation"]
        if quoted:
            self.rpc("purchase.purchase", "confirm", quoted)
        self._count("purchase_orders", len(todo), len(existing))

    def _first_address(self, party: int) -> int | None:
        cache = self.ids["address"]
        if not cache:
            rows = self.rpc.search_read("party.address", [], ["party"])
            for row in rows:
                cache.setdefault(row["party"], row["id"])
        return cache.get(party)


# -------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.erp_seed",
        description="Seed the Tryton ERP from the sandbox world (idempotent).",
    )
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--orders-per-day", type=int, default=20)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--scenario", default="clean")
    parser.add_argument("--url", default=os.environ.get("DISTROHUB_TRYTON_URL"))
    parser.add_argument("--user", default=os.environ.get("DISTROHUB_TRYTON_USER", "admin"))
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    password = os.environ.get("DISTROHUB_TRYTON_PASSWORD")
    if not args.url or not password:
        print(
            "erp_seed: set DISTROHUB_TRYTON_URL and DISTROHUB_TRYTON_PASSWORD (the password "
            "only from the environment); `distrohub erp up` writes them to "
            "$DISTROHUB_STATE_DIR/erp/erp.env",
            file=sys.stderr,
        )
        return 2
    world = generate_world(
        seed=args.seed,
        skus=args.skus,
        orders_per_day=args.orders_per_day,
        days=args.days,
        scenario=args.scenario,
    )

    def say(message: str) -> None:
        if not args.quiet:
            print(f"erp_seed: {message}", file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        rpc = Rpc(args.url, args.user, password)
        try:
            report = seed_erp(rpc, world, say)
        finally:
            rpc.close()
    except SeedError as exc:
        print(f"erp_seed: {exc}", file=sys.stderr)
        return 1
    out = report.as_dict()
    out["total_seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
