"""A storefront speaking the Shopify Admin REST API, version 2025-07.

Served under ``/admin/api/2025-07/`` (other versions answer 404 saying which
one is served). Every request needs ``X-Shopify-Access-Token`` (401
otherwise) and passes the leaky bucket (429 with ``Retry-After`` when full;
``X-Shopify-Shop-Api-Call-Limit: used/size`` on every answer).

Endpoints (``.json`` suffix as in Shopify's docs):
shop; products (list, count, one, its variants); variants (one, PUT price);
inventory_items (list by ``ids``, one); inventory_levels (list by
``inventory_item_ids`` and/or ``location_ids``; ``set``, ``adjust``,
``connect``; a level is listed where the item is stocked: ``Store.stocks``);
locations (list, count, one, its inventory_levels: the own ones, then one per
drop-ship supplier); orders
(list, count, one; ``status`` default ``open``, ``created_at_*``,
``updated_at_*``, ``processed_at_*``, ``since_id``, ``ids``,
``financial_status``, ``fulfillment_status``, ``order``, ``fields``);
orders/{id}/fulfillment_orders; orders/{id}/fulfillments (list, one);
fulfillments (POST, fulfillment-order style) and update_tracking; customers
(list, count, one); webhooks (list, create, one, delete).

Lists page by cursor: ``limit`` (default 50, at most 250) and a ``Link``
header ``<url?limit=..&page_info=..>; rel="next"`` (and ``rel="previous"``);
a ``page_info`` request takes only ``limit`` and ``fields``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.ids import shopify_id, shopify_kind_store, shopify_seq
from sandbox.paging import CursorError, decode_cursor, encode_cursor, page
from sandbox.records import LiveOrder
from sandbox.runtime import SandboxRuntime
from sandbox.shopify_payloads import API_VERSION, Renderer
from sandbox.simulation import SimulationError
from sandbox.store_state import Store
from sandbox.timestamps import parse_iso

PREFIX = f"/admin/api/{API_VERSION}"
MAX_LIMIT = 250

ORDER_FILTERS = (
    "status",
    "financial_status",
    "fulfillment_status",
    "created_at_min",
    "created_at_max",
    "updated_at_min",
    "updated_at_max",
    "processed_at_min",
    "processed_at_max",
    "since_id",
    "ids",
    "order",
)
PRODUCT_FILTERS = (
    "ids",
    "since_id",
    "created_at_min",
    "created_at_max",
    "updated_at_min",
    "updated_at_max",
    "product_type",
    "vendor",
    "handle",
    "status",
)
CUSTOMER_FILTERS = (
    "ids",
    "since_id",
    "created_at_min",
    "created_at_max",
    "updated_at_min",
    "updated_at_max",
)


THROTTLED = (
    "Exceeded 2 calls per second for api client. "
    "Reduce request rates to resume uninterrupted service."
)
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"

#: Header names as Shopify spells them (Starlette lowercases; some clients,
#: ShopifyAPI's Limits among them, look headers up case-sensitively).
CANONICAL = {
    b"x-shopify-shop-api-call-limit": b"X-Shopify-Shop-Api-Call-Limit",
    b"x-shopify-api-version": b"X-Shopify-API-Version",
    b"link": b"Link",
    b"retry-after": b"Retry-After",
}


def _canonical(response: Response) -> Response:
    response.raw_headers = [(CANONICAL.get(k, k), v) for k, v in response.raw_headers]
    return response


class ApiError(Exception):
    def __init__(self, status: int, errors: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors
        self.headers = headers or {}


class _Ids(Sequence):
    """Lazy ascending sort keys (id,) for records numbered 1..n."""

    def __init__(self, kind: str, store: str, n: int) -> None:
        self.kind, self.store, self.n = kind, store, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):  # type: ignore[override]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return (shopify_id(self.kind, self.store, i + 1),)


def make_app(rt: SandboxRuntime, channel: str) -> Starlette:
    """The Starlette app for one storefront."""
    api = _StoreApi(rt, channel)
    routes = [
        Route(PREFIX + "/shop.json", api.wrap(api.shop)),
        Route(PREFIX + "/products.json", api.wrap(api.products)),
        Route(PREFIX + "/products/count.json", api.wrap(api.products_count)),
        Route(PREFIX + "/products/{id:int}.json", api.wrap(api.product)),
        Route(PREFIX + "/products/{id:int}/variants.json", api.wrap(api.product_variants)),
        Route(PREFIX + "/variants/{id:int}.json", api.wrap(api.variant), methods=["GET", "PUT"]),
        Route(PREFIX + "/inventory_items.json", api.wrap(api.inventory_items)),
        Route(PREFIX + "/inventory_items/{id:int}.json", api.wrap(api.inventory_item)),
        Route(PREFIX + "/inventory_levels.json", api.wrap(api.inventory_levels)),
        Route(PREFIX + "/inventory_levels/set.json", api.wrap(api.levels_set), methods=["POST"]),
        Route(
            PREFIX + "/inventory_levels/adjust.json", api.wrap(api.levels_adjust), methods=["POST"]
        ),
        Route(
            PREFIX + "/inventory_levels/connect.json",
            api.wrap(api.levels_connect),
            methods=["POST"],
        ),
        Route(PREFIX + "/locations.json", api.wrap(api.locations)),
        Route(PREFIX + "/locations/count.json", api.wrap(api.locations_count)),
        Route(PREFIX + "/locations/{id:int}.json", api.wrap(api.location)),
        Route(PREFIX + "/locations/{id:int}/inventory_levels.json", api.wrap(api.location_levels)),
        Route(PREFIX + "/orders.json", api.wrap(api.orders)),
        Route(PREFIX + "/orders/count.json", api.wrap(api.orders_count)),
        Route(PREFIX + "/orders/{id:int}.json", api.wrap(api.order)),
        Route(
            PREFIX + "/orders/{id:int}/fulfillment_orders.json", api.wrap(api.fulfillment_orders)
        ),
        Route(PREFIX + "/orders/{id:int}/fulfillments.json", api.wrap(api.order_fulfillments)),
        Route(
            PREFIX + "/orders/{id:int}/fulfillments/{fid:int}.json", api.wrap(api.order_fulfillment)
        ),
        Route(PREFIX + "/fulfillments.json", api.wrap(api.create_fulfillment), methods=["POST"]),
        Route(
            PREFIX + "/fulfillments/{fid:int}/update_tracking.json",
            api.wrap(api.update_tracking),
            methods=["POST"],
        ),
        Route(PREFIX + "/customers.json", api.wrap(api.customers)),
        Route(PREFIX + "/customers/count.json", api.wrap(api.customers_count)),
        Route(PREFIX + "/customers/{id:int}.json", api.wrap(api.customer)),
        Route(PREFIX + "/webhooks.json", api.wrap(api.webhooks), methods=["GET", "POST"]),
        Route(PREFIX + "/webhooks/{id:int}.json", api.wrap(api.webhook), methods=["GET", "DELETE"]),
        Route("/{path:path}", api.not_found, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
    return Starlette(routes=routes)


class _StoreApi:
    def __init__(self, rt: SandboxRuntime, channel: str) -> None:
        self.rt = rt
        self.channel = channel
        self.system = f"shopify:{channel}"
        self._updated_index: tuple[int, list[tuple[int, int]]] | None = None
        self._family_index: dict[int, int] | None = None

    # -- plumbing --------------------------------------------------------------------------

    @property
    def sim(self):
        assert self.rt.sim is not None
        return self.rt.sim

    @property
    def store(self) -> Store:
        return self.sim.stores[self.channel]

    @property
    def r(self) -> Renderer:
        return Renderer(self.sim, self.store)

    def wrap(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return _canonical(await self._guarded(handler, request))

        return endpoint

    async def _guarded(
        self, handler: Callable[[Request], Awaitable[Response]], request: Request
    ) -> Response:
        """Faults, then auth (401), then the leaky bucket (429), then the handler."""
        fault = self.rt.faults.http_fault(self.system, request.url.path)
        bucket = self.rt.buckets[self.channel]
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind == "rate_limit":
            limit = f"{bucket.size}/{bucket.size}"
            return JSONResponse(
                {"errors": THROTTLED},
                429,
                headers={"Retry-After": "2.0", "X-Shopify-Shop-Api-Call-Limit": limit},
            )
        if fault is not None:
            return JSONResponse({"errors": "Internal Server Error"}, fault.status)
        token = request.headers.get("x-shopify-access-token")
        if token != self.rt.creds["shopify"][self.channel]["token"]:
            return JSONResponse({"errors": UNAUTHORIZED}, 401)
        allowed, used, wait = bucket.take()
        if not allowed:
            return JSONResponse(
                {"errors": THROTTLED},
                429,
                headers={
                    "Retry-After": f"{wait:.1f}",
                    "X-Shopify-Shop-Api-Call-Limit": bucket.header(used),
                },
            )
        try:
            response = await handler(request)
        except ApiError as exc:
            response = JSONResponse({"errors": exc.errors}, exc.status, headers=exc.headers)
        except SimulationError as exc:
            response = JSONResponse({"errors": {"base": [str(exc)]}}, exc.status)
        response.headers["X-Shopify-Shop-Api-Call-Limit"] = bucket.header(used)
        response.headers["X-Shopify-API-Version"] = API_VERSION
        return response

    async def not_found(self, request: Request) -> Response:
        m = re.match(r"/admin/api/([^/]+)/", request.url.path)
        if m and m.group(1) != API_VERSION:
            msg = (
                f"Not Found: this storefront serves Admin API version {API_VERSION} only "
                f"(asked {m.group(1)})"
            )
        else:
            msg = "Not Found"
        return JSONResponse({"errors": msg}, 404)

    @staticmethod
    async def body(request: Request) -> dict[str, Any]:
        try:
            data = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            raise ApiError(400, {"base": [f"body is not valid JSON: {exc}"]}) from None
        if not isinstance(data, dict):
            raise ApiError(400, {"base": ["body must be a JSON object"]})
        return data

    def local(self, kind: str, id_: int) -> int:
        """The sequence of a sandbox id of ``kind`` in this store (404 otherwise)."""
        ks = shopify_kind_store(id_)
        if ks != (kind, self.channel):
            raise ApiError(404, "Not Found")
        return shopify_seq(id_)

    def item_of(self, kind: str, id_: int) -> int:
        seq = self.local(kind, id_)
        item = seq - 1
        if item not in self.store.listed:
            raise ApiError(404, "Not Found")
        return item

    def loc_of(self, id_: int) -> str:
        seq = self.local("location", id_)
        if not 1 <= seq <= len(self.store.locations):
            raise ApiError(404, "Not Found")
        return self.store.locations[seq - 1]

    def order_of(self, id_: int) -> LiveOrder:
        order = self.store.order_by_seq(self.local("order", id_))
        if order is None:
            raise ApiError(404, "Not Found")
        return order

    @staticmethod
    def limit(params) -> int:
        raw = params.get("limit", "50")
        try:
            n = int(raw)
        except ValueError:
            raise ApiError(
                400, {"limit": f"must be an integer between 1 and {MAX_LIMIT}, got {raw!r}"}
            ) from None
        if not 1 <= n <= MAX_LIMIT:
            raise ApiError(400, {"limit": f"must be between 1 and {MAX_LIMIT}, got {n}"})
        return n

    @staticmethod
    def pick_fields(obj: dict[str, Any], fields: str | None) -> dict[str, Any]:
        if not fields:
            return obj
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
        return {k: obj[k] for k in wanted if k in obj}

    @staticmethod
    def ids_param(params, name: str, cap: int | None = None) -> list[int] | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        try:
            ids = [int(x) for x in raw.split(",") if x.strip()]
        except ValueError:
            raise ApiError(
                400, {name: f"must be a comma-separated list of integer ids, got {raw!r}"}
            ) from None
        if cap is not None and len(ids) > cap:
            raise ApiError(422, {name: [f"too many ids ({len(ids)}); at most {cap} per request"]})
        return ids

    @staticmethod
    def time_param(params, name: str) -> int | None:
        raw = params.get(name)
        if not raw:
            return None
        try:
            return parse_iso(raw)
        except ValueError as exc:
            raise ApiError(400, {name: str(exc)}) from None

    def paged(
        self,
        request: Request,
        resource: str,
        allowed_filters: Sequence[str],
        view: Callable[[dict[str, str]], tuple[Sequence[tuple], Callable[[int], bool], bool]],
        render: Callable[[int], dict[str, Any]],
        rendered: Callable[[int], bytes] | None = None,
    ) -> Response:
        """A cursor-paged list: ``view(filters)`` gives the ascending keys, the
        filter on positions and whether presentation is descending. ``rendered``, when
        given, is a record's JSON already encoded (whole records only: not with ``fields``)."""
        params = request.query_params
        limit = self.limit(params)
        fields = params.get("fields")
        token = params.get("page_info")
        if token:
            extra = [k for k in params if k not in ("limit", "page_info", "fields")]
            if extra:
                raise ApiError(
                    400,
                    {
                        "page_info": f"cannot be combined with {', '.join(sorted(extra))}: a "
                        "page_info already carries the filters of the first request"
                    },
                )
            try:
                cur = decode_cursor(token)
                filters = dict(cur["f"])
                anchor, backwards = cur["a"], cur["d"] == "prev"
            except (CursorError, KeyError, TypeError):
                raise ApiError(400, {"page_info": "Invalid value."}) from None
        else:
            unknown = [k for k in params if k not in (*allowed_filters, "limit", "fields")]
            if unknown:
                raise ApiError(400, {k: "unknown parameter for this endpoint" for k in unknown})
            filters = {k: params[k] for k in allowed_filters if k in params}
            anchor, backwards = None, False
        keys, accept, descending = view(filters)
        pg = page(keys, accept, limit, descending=descending, anchor=anchor, backwards=backwards)
        links = []
        base = str(request.base_url).rstrip("/") + request.url.path

        def link(anchor_key, direction, rel):
            q = {"limit": str(limit)}
            if fields:
                q["fields"] = fields
            q["page_info"] = encode_cursor({"f": filters, "a": anchor_key, "d": direction})
            return f'<{base}?{urlencode(q)}>; rel="{rel}"'

        if pg.has_previous and pg.first_key is not None:
            links.append(link(pg.first_key, "prev", "previous"))
        if pg.has_next and pg.last_key is not None:
            links.append(link(pg.last_key, "next", "next"))
        headers = {"Link": ", ".join(links)} if links else {}
        if rendered is not None and not fields:
            # the same bytes JSONResponse would send, joined from records encoded once
            records = b",".join(rendered(p) for p in pg.positions)
            content = b'{"' + resource.encode() + b'":[' + records + b"]}"
            return Response(content, media_type="application/json", headers=headers)
        body = {resource: [self.pick_fields(render(p), fields) for p in pg.positions]}
        return JSONResponse(body, headers=headers)

    # -- shop --------------------------------------------------------------------------------

    async def shop(self, request: Request) -> Response:
        return JSONResponse({"shop": self.r.shop()})

    # -- products ----------------------------------------------------------------------------

    def _product_view(self, filters: dict[str, str]):
        store = self.store
        r = self.r
        n = len(store.families)
        keys = [(shopify_id("product", self.channel, int(f[1:])),) for f, _ in store.families]
        ids = self.ids_param(filters, "ids")
        since = int(filters["since_id"]) if filters.get("since_id", "").isdigit() else None
        ranges = {
            k: self.time_param(filters, k)
            for k in ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max")
        }
        ptype, vendor, handle = (
            filters.get("product_type"),
            filters.get("vendor"),
            filters.get("handle"),
        )
        status = filters.get("status")
        id_set = set(ids) if ids else None

        def accept(pos: int) -> bool:
            if pos >= n:
                return False
            pid = keys[pos][0]
            if id_set is not None and pid not in id_set:
                return False
            if since is not None and pid <= since:
                return False
            if any(v is not None for v in ranges.values()):
                created, updated = r.product_times(pos)
                if ranges["created_at_min"] is not None and created < ranges["created_at_min"]:
                    return False
                if ranges["created_at_max"] is not None and created > ranges["created_at_max"]:
                    return False
                if ranges["updated_at_min"] is not None and updated < ranges["updated_at_min"]:
                    return False
                if ranges["updated_at_max"] is not None and updated > ranges["updated_at_max"]:
                    return False
            if status and status not in ("active", "any"):
                return False
            if ptype or vendor or handle:
                p = r.product(pos)
                if ptype and p["product_type"] != ptype:
                    return False
                if vendor and p["vendor"] != vendor:
                    return False
                if handle and p["handle"] != handle:
                    return False
            return True

        return keys, accept, False

    async def products(self, request: Request) -> Response:
        r = self.r
        return self.paged(request, "products", PRODUCT_FILTERS, self._product_view, r.product)

    async def products_count(self, request: Request) -> Response:
        filters = {k: request.query_params[k] for k in PRODUCT_FILTERS if k in request.query_params}
        keys, accept, _ = self._product_view(filters)
        return JSONResponse({"count": sum(1 for p in range(len(keys)) if accept(p))})

    def _family_pos(self, product_id: int) -> int:
        seq = self.local("product", product_id)
        if self._family_index is None:
            self._family_index = {
                int(code[1:]): pos for pos, (code, _) in enumerate(self.store.families)
            }
        pos = self._family_index.get(seq)
        if pos is None:
            raise ApiError(404, "Not Found")
        return pos

    async def product(self, request: Request) -> Response:
        pos = self._family_pos(request.path_params["id"])
        return JSONResponse(
            {"product": self.pick_fields(self.r.product(pos), request.query_params.get("fields"))}
        )

    async def product_variants(self, request: Request) -> Response:
        pos = self._family_pos(request.path_params["id"])
        return JSONResponse({"variants": self.r.product(pos)["variants"]})

    async def variant(self, request: Request) -> Response:
        item = self.item_of("variant", request.path_params["id"])
        if request.method == "PUT":
            body = await self.body(request)
            v = body.get("variant")
            if not isinstance(v, dict):
                raise ApiError(400, {"variant": "Required parameter missing or invalid"})
            price = _cents_or_error(v, "price") if "price" in v else None
            compare: Any = "keep"
            if "compare_at_price" in v:
                compare = (
                    None
                    if v["compare_at_price"] in (None, "")
                    else _cents_or_error(v, "compare_at_price")
                )
            self.sim.update_variant(self.channel, item, price, compare, body)
        pos = self.store.family_of[item]
        members = self.store.families[pos][1]
        pid = shopify_id("product", self.channel, int(self.store.families[pos][0][1:]))
        return JSONResponse({"variant": self.r.variant(item, members.index(item) + 1, pid)})

    # -- inventory --------------------------------------------------------------------------

    async def inventory_items(self, request: Request) -> Response:
        ids = self.ids_param(request.query_params, "ids", 100)
        if not ids:
            raise ApiError(422, {"ids": ["ids is required: pass up to 100 inventory item ids"]})
        items = []
        for id_ in dict.fromkeys(ids):
            ks = shopify_kind_store(id_)
            if ks == ("inventory_item", self.channel) and shopify_seq(id_) - 1 in self.store.listed:
                items.append(self.r.inventory_item(shopify_seq(id_) - 1))
        return JSONResponse({"inventory_items": items})

    async def inventory_item(self, request: Request) -> Response:
        item = self.item_of("inventory_item", request.path_params["id"])
        return JSONResponse({"inventory_item": self.r.inventory_item(item)})

    def _levels_view(self, filters: dict[str, str]):
        item_ids = self.ids_param(filters, "inventory_item_ids", 50)
        loc_ids = self.ids_param(filters, "location_ids", 50)
        if not item_ids and not loc_ids:
            raise ApiError(422, {"base": ["inventory_item_ids or location_ids is required"]})
        if item_ids is not None:
            items = sorted(
                {
                    shopify_seq(i) - 1
                    for i in item_ids
                    if shopify_kind_store(i) == ("inventory_item", self.channel)
                    and shopify_seq(i) - 1 in self.store.listed
                }
            )
        else:
            items = self.store.items
        store = self.store
        all_locs = store.locations
        locs = list(all_locs)
        if loc_ids is not None:
            locs = [
                all_locs[shopify_seq(i) - 1]
                for i in sorted(loc_ids)
                if shopify_kind_store(i) == ("location", self.channel)
                and 1 <= shopify_seq(i) <= len(all_locs)
            ]
        n_l = len(locs)
        self._levels_pairs = (items, locs)
        sim_items = self.sim.items

        class Keys(Sequence):
            def __len__(s) -> int:
                return len(items) * n_l

            def __getitem__(s, i):  # type: ignore[override]
                if i < 0:
                    i += len(s)
                it, lo = divmod(i, n_l)
                return (items[it], all_locs.index(locs[lo]))

        def stocked(pos: int) -> bool:
            # every item × location pair in key order; only the pairs with a level are listed
            it, lo = divmod(pos, n_l)
            return store.stocks(items[it], sim_items[items[it]], locs[lo])

        return Keys(), stocked, False

    async def inventory_levels(self, request: Request) -> Response:
        r = self.r

        def render(pos: int) -> dict[str, Any]:
            items, locs = self._levels_pairs
            it, lo = divmod(pos, len(locs))
            return r.inventory_level(items[it], locs[lo])

        return self.paged(
            request,
            "inventory_levels",
            ("inventory_item_ids", "location_ids"),
            self._levels_view,
            render,
        )

    async def location_levels(self, request: Request) -> Response:
        loc = self.loc_of(request.path_params["id"])
        r = self.r
        items = [i for i in self.store.items if self.store.stocks(i, self.sim.items[i], loc)]
        keys_list = [(i,) for i in items]

        def render(pos: int) -> dict[str, Any]:
            return r.inventory_level(items[pos], loc)

        return self.paged(
            request, "inventory_levels", (), lambda f: (keys_list, lambda p: True, False), render
        )

    def _level_body(self, body: dict[str, Any], qty_key: str) -> tuple[int, str, int]:
        errors: dict[str, list[str]] = {}
        for key in ("location_id", "inventory_item_id", qty_key):
            v = body.get(key)
            if not isinstance(v, int) or isinstance(v, bool):
                errors[key] = [
                    f"Required parameter missing or invalid: expected an integer, got {v!r}"
                ]
        if errors:
            raise ApiError(422, errors)
        loc = self.loc_of(body["location_id"])
        item = self.item_of("inventory_item", body["inventory_item_id"])
        return item, loc, body[qty_key]

    async def levels_set(self, request: Request) -> Response:
        body = await self.body(request)
        item, loc, available = self._level_body(body, "available")
        self.sim.set_inventory_level(self.channel, item, loc, available, body=body)
        return JSONResponse({"inventory_level": self.r.inventory_level(item, loc)})

    async def levels_adjust(self, request: Request) -> Response:
        body = await self.body(request)
        item, loc, delta = self._level_body(body, "available_adjustment")
        self.sim.set_inventory_level(self.channel, item, loc, delta, adjust=True, body=body)
        return JSONResponse({"inventory_level": self.r.inventory_level(item, loc)})

    async def levels_connect(self, request: Request) -> Response:
        body = await self.body(request)
        loc = self.loc_of(
            body.get("location_id") if isinstance(body.get("location_id"), int) else -1
        )
        item = self.item_of(
            "inventory_item",
            body.get("inventory_item_id") if isinstance(body.get("inventory_item_id"), int) else -1,
        )
        # connected: the item has a level at the location from now on (Store.stocks)
        self.store.levels.setdefault((item, loc), self.sim.store_available(self.store, item, loc))
        return JSONResponse({"inventory_level": self.r.inventory_level(item, loc)}, 201)

    # -- locations ------------------------------------------------------------------------------

    async def locations(self, request: Request) -> Response:
        return JSONResponse({"locations": [self.r.location(c) for c in self.store.locations]})

    async def locations_count(self, request: Request) -> Response:
        return JSONResponse({"count": len(self.store.locations)})

    async def location(self, request: Request) -> Response:
        return JSONResponse({"location": self.r.location(self.loc_of(request.path_params["id"]))})

    # -- orders --------------------------------------------------------------------------------

    def _updated_keys(self) -> list[tuple[int, int]]:
        store = self.store
        if (
            self._updated_index is None
            or self._updated_index[0] != store.mutations
            or len(self._updated_index[1]) != len(store.orders)
        ):
            keys = sorted(
                (o.updated, shopify_id("order", self.channel, o.seq)) for o in store.orders
            )
            self._updated_index = (store.mutations, keys)
        return self._updated_index[1]

    def _order_view(self, filters: dict[str, str]):
        store = self.store
        orders = store.orders
        status = filters.get("status", "open")
        if status not in ("open", "closed", "cancelled", "any"):
            raise ApiError(
                400, {"status": f"must be open, closed, cancelled or any, got {status!r}"}
            )
        fin = filters.get("financial_status")
        ful = filters.get("fulfillment_status")
        tr = {
            k: self.time_param(filters, k)
            for k in (
                "created_at_min",
                "created_at_max",
                "updated_at_min",
                "updated_at_max",
                "processed_at_min",
                "processed_at_max",
            )
        }
        since = filters.get("since_id")
        since_id = None
        if since:
            if not since.isdigit():
                raise ApiError(400, {"since_id": f"must be an integer id, got {since!r}"})
            since_id = int(since)
        ids = self.ids_param(filters, "ids")
        id_set = set(ids) if ids else None
        order_param = filters.get("order") or (
            "id asc" if since_id is not None else "created_at desc"
        )
        m = re.fullmatch(
            r"\s*(created_at|updated_at|processed_at|id)(?:\s+(asc|desc))?\s*", order_param
        )
        if not m:
            raise ApiError(
                400, {"order": "must be '<created_at|updated_at|processed_at|id> <asc|desc>'"}
            )
        field, direction = m.group(1), m.group(2) or "desc"
        if field == "updated_at":
            keys: Sequence[tuple] = self._updated_keys()

            def order_at(pos: int) -> LiveOrder:
                return orders[shopify_seq(keys[pos][1]) - 1]
        else:
            keys = _Ids("order", self.channel, len(orders))

            def order_at(pos: int) -> LiveOrder:
                return orders[pos]

        def accept(pos: int) -> bool:
            o = order_at(pos)
            if status == "open" and (o.closed_at is not None or o.cancelled_at is not None):
                return False
            if status == "closed" and o.closed_at is None:
                return False
            if status == "cancelled" and o.cancelled_at is None:
                return False
            if since_id is not None and shopify_id("order", self.channel, o.seq) <= since_id:
                return False
            if id_set is not None and shopify_id("order", self.channel, o.seq) not in id_set:
                return False
            if tr["created_at_min"] is not None and o.created < tr["created_at_min"]:
                return False
            if tr["created_at_max"] is not None and o.created > tr["created_at_max"]:
                return False
            if tr["processed_at_min"] is not None and o.created < tr["processed_at_min"]:
                return False
            if tr["processed_at_max"] is not None and o.created > tr["processed_at_max"]:
                return False
            if tr["updated_at_min"] is not None and o.updated < tr["updated_at_min"]:
                return False
            if tr["updated_at_max"] is not None and o.updated > tr["updated_at_max"]:
                return False
            if fin and fin != "any" and o.financial_status != fin:
                return False
            if ful and ful != "any":
                fs = o.fulfillment_status
                if ful in ("shipped", "fulfilled") and fs != "fulfilled":
                    return False
                if ful == "partial" and fs != "partial":
                    return False
                if ful in ("unshipped", "unfulfilled") and fs == "fulfilled":
                    return False
            return True

        self._order_at = order_at
        return keys, accept, direction == "desc"

    async def orders(self, request: Request) -> Response:
        r = self.r
        cache = self.rt.order_bodies.get(self.channel)
        return self.paged(
            request,
            "orders",
            ORDER_FILTERS,
            self._order_view,
            lambda pos: r.order(self._order_at(pos)),
            (lambda pos: cache.body(self._order_at(pos))) if cache is not None else None,
        )

    async def orders_count(self, request: Request) -> Response:
        filters = {k: request.query_params[k] for k in ORDER_FILTERS if k in request.query_params}
        keys, accept, _ = self._order_view(filters)
        return JSONResponse({"count": sum(1 for p in range(len(keys)) if accept(p))})

    async def order(self, request: Request) -> Response:
        o = self.order_of(request.path_params["id"])
        return JSONResponse(
            {"order": self.pick_fields(self.r.order(o), request.query_params.get("fields"))}
        )

    async def fulfillment_orders(self, request: Request) -> Response:
        o = self.order_of(request.path_params["id"])
        return JSONResponse({"fulfillment_orders": [self.r.fulfillment_order(o)]})

    async def order_fulfillments(self, request: Request) -> Response:
        o = self.order_of(request.path_params["id"])
        return JSONResponse({"fulfillments": [self.r.fulfillment(o, f) for f in o.fulfillments]})

    async def order_fulfillment(self, request: Request) -> Response:
        o = self.order_of(request.path_params["id"])
        fseq = self.local("fulfillment", request.path_params["fid"])
        for f in o.fulfillments:
            if f.seq == fseq:
                return JSONResponse({"fulfillment": self.r.fulfillment(o, f)})
        raise ApiError(404, "Not Found")

    async def create_fulfillment(self, request: Request) -> Response:
        body = await self.body(request)
        f = body.get("fulfillment")
        if (
            not isinstance(f, dict)
            or not isinstance(f.get("line_items_by_fulfillment_order"), list)
            or not f["line_items_by_fulfillment_order"]
        ):
            raise ApiError(
                400,
                {
                    "fulfillment": "Required parameter missing or invalid: expected "
                    "{fulfillment: {line_items_by_fulfillment_order: [...]}}"
                },
            )
        groups = f["line_items_by_fulfillment_order"]
        order: LiveOrder | None = None
        lines: list[tuple[int, int]] = []
        for g in groups:
            fo_id = g.get("fulfillment_order_id") if isinstance(g, dict) else None
            if not isinstance(fo_id, int):
                raise ApiError(422, {"fulfillment_order_id": ["is required (an integer)"]})
            o = self.store.order_by_seq(self.local("fulfillment_order", fo_id))
            if o is None:
                raise ApiError(404, "Not Found")
            if order is not None and o is not order:
                raise ApiError(
                    422, {"base": ["all fulfillment orders must belong to the same order"]}
                )
            order = o
            items = g.get("fulfillment_order_line_items")
            if not items:  # all remaining
                lines += [
                    (ln.line_no, ln.quantity - ln.fulfilled)
                    for ln in o.lines
                    if ln.quantity > ln.fulfilled
                ]
                continue
            for li in items:
                if (
                    not isinstance(li, dict)
                    or not isinstance(li.get("id"), int)
                    or not isinstance(li.get("quantity"), int)
                ):
                    raise ApiError(
                        422,
                        {"fulfillment_order_line_items": ["each needs an integer id and quantity"]},
                    )
                seq = self.local("fulfillment_order_line_item", li["id"])
                order_seq, line_no = divmod(seq, 100)
                if order_seq != o.seq:
                    raise ApiError(
                        422,
                        {
                            "fulfillment_order_line_items": [
                                f"line item {li['id']} does not belong to fulfillment order {fo_id}"
                            ]
                        },
                    )
                lines.append((line_no, li["quantity"]))
        assert order is not None
        if not lines:
            raise ApiError(422, {"base": ["nothing left to fulfil on this order"]})
        tracking = f.get("tracking_info") if isinstance(f.get("tracking_info"), dict) else {}
        created = self.sim.create_fulfillment(
            self.channel, order, lines, tracking, bool(f.get("notify_customer")), body
        )
        return JSONResponse({"fulfillment": self.r.fulfillment(order, created)}, 201)

    async def update_tracking(self, request: Request) -> Response:
        fseq = self.local("fulfillment", request.path_params["fid"])
        body = await self.body(request)
        info = (body.get("fulfillment") or {}).get("tracking_info") or {}
        for o in self.store.orders:
            for f in o.fulfillments:
                if f.seq == fseq:
                    f.tracking_number = info.get("number", f.tracking_number)
                    f.tracking_company = info.get("company", f.tracking_company)
                    f.tracking_url = info.get("url", f.tracking_url)
                    f.updated = self.sim.now
                    self.store.mutations += 1  # the order's rendering changed
                    return JSONResponse({"fulfillment": self.r.fulfillment(o, f)})
        raise ApiError(404, "Not Found")

    # -- customers --------------------------------------------------------------------------------

    def _customer_view(self, filters: dict[str, str]):
        custs = self.store.customers
        r = self.r
        keys = [(shopify_id("customer", self.channel, c + 1),) for c in custs]
        ids = self.ids_param(filters, "ids")
        id_set = set(ids) if ids else None
        since = int(filters["since_id"]) if filters.get("since_id", "").isdigit() else None
        tr = {
            k: self.time_param(filters, k) for k in CUSTOMER_FILTERS if k.endswith(("_min", "_max"))
        }
        stats = self.store.customer_stats

        def accept(pos: int) -> bool:
            cid = keys[pos][0]
            if id_set is not None and cid not in id_set:
                return False
            if since is not None and cid <= since:
                return False
            c = custs[pos]
            created = r.customer_created(c)
            st = stats.get(c)
            updated = max(created, st.updated) if st else created
            for k, v in tr.items():
                if v is None:
                    continue
                t = created if k.startswith("created") else updated
                if (k.endswith("_min") and t < v) or (k.endswith("_max") and t > v):
                    return False
            return True

        return keys, accept, False

    async def customers(self, request: Request) -> Response:
        r = self.r
        custs = self.store.customers
        return self.paged(
            request,
            "customers",
            CUSTOMER_FILTERS,
            self._customer_view,
            lambda pos: r.customer(custs[pos]),
        )

    async def customers_count(self, request: Request) -> Response:
        filters = {
            k: request.query_params[k] for k in CUSTOMER_FILTERS if k in request.query_params
        }
        keys, accept, _ = self._customer_view(filters)
        return JSONResponse({"count": sum(1 for p in range(len(keys)) if accept(p))})

    async def customer(self, request: Request) -> Response:
        seq = self.local("customer", request.path_params["id"])
        if seq - 1 not in set(self.store.customers):
            raise ApiError(404, "Not Found")
        return JSONResponse({"customer": self.r.customer(seq - 1)})

    # -- webhooks --------------------------------------------------------------

    async def webhooks(self, request: Request) -> Response:
        store = self.store
        if request.method == "GET":
            return JSONResponse({"webhooks": store.webhooks})
        body = await self.body(request)
        w = body.get("webhook")
        if not isinstance(w, dict):
            raise ApiError(400, {"webhook": "Required parameter missing or invalid"})
        topic, address = w.get("topic"), w.get("address")
        errors = {}
        if topic not in ("orders/create", "orders/updated", "inventory_levels/update"):
            errors["topic"] = [
                "Invalid topic specified. This sandbox sends orders/create, orders/updated and "
                "inventory_levels/update."
            ]
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            errors["address"] = ["must be an http(s) URL"]
        if any(x["topic"] == topic and x["address"] == address for x in store.webhooks):
            errors["address"] = ["for this topic has already been taken"]
        if errors:
            raise ApiError(422, errors)
        seq = len(store.webhooks) + 1
        now = self.r.ts(self.sim.now)
        rec = {
            "id": shopify_id("webhook", self.channel, seq),
            "address": address,
            "topic": topic,
            "created_at": now,
            "updated_at": now,
            "format": "json",
            "fields": [],
            "metafield_namespaces": [],
            "api_version": API_VERSION,
            "private_metafield_namespaces": [],
        }
        store.webhooks.append(rec)
        return JSONResponse({"webhook": rec}, 201)

    async def webhook(self, request: Request) -> Response:
        store = self.store
        id_ = request.path_params["id"]
        for w in store.webhooks:
            if w["id"] == id_:
                if request.method == "DELETE":
                    store.webhooks.remove(w)
                    return JSONResponse({})
                return JSONResponse({"webhook": w})
        raise ApiError(404, "Not Found")


def _cents_or_error(v: dict[str, Any], key: str) -> int:
    raw = v.get(key)
    try:
        text = str(raw)
        if not re.fullmatch(r"-?\d+(\.\d{1,2})?", text):
            raise ValueError
        whole, _, frac = text.partition(".")
        cents = int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0) * (
            -1 if text.startswith("-") else 1
        )
    except ValueError:
        raise ApiError(
            422, {key: [f'must be a decimal amount like "12.50", got {raw!r}']}
        ) from None
    if cents < 0:
        raise ApiError(422, {key: ["must be greater than or equal to 0"]})
    return cents
