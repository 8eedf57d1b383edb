"""Reconciliation marts through Dagster on landed sandbox worlds.

On the ``discrepancies`` world (sandbox and ERP seeded with that scenario) every
planted discrepancy of the truth appears in its recon view, with the values of
both sides. The clean world's data agree, but its pipeline is stalled as landed:
no delivery runs (the orders placed in the sandbox's days never reach the ERP) and
nothing posts shipments. Each record is judged by its own age against its SLA, never
by how far the hub got, so the views list exactly what the stall left (every such
order, held ones as held, every confirmation, each linked to its order) and nothing else.
A confirmation is linked by its order reference, a release id or its sender's
``settings.shipment_matching`` (the 3PL's ``HIST-<order>``); one nothing links is listed as
unmatched, with its fix in ``marts.ops_exceptions``. Ages are measured at the sandbox clock
(DISTROHUB_AS_OF), so they do not depend on when the test runs.
"""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import psycopg

from dagster_project.definitions import defs
from sandbox.testing import running_sandbox
from tests.erp_fixtures import SEED, SKUS
from tests.ingest.test_sandbox_ingest import erp_env
from tests.models.conftest import LandedWorld, run

# The ERP is seeded with sandbox.erp_seed's default of 3 days; the sandbox must run the
# same world (its purchase orders and history depend on the number of days).
DAYS = 3

RECON_VIEWS = (
    "recon_orders",
    "recon_shipments",
    "recon_shipments_by_warehouse",
    "recon_inventory",
    "recon_supplier",
    "recon_returns",
)

# planted kind -> (view, business key expression, discrepancy code)
VIEW_OF_KIND = {
    "order_missing_in_erp": ("recon_orders", "order_key", "missing_in_erp"),
    "order_duplicated_in_erp": ("recon_orders", "order_key", "duplicated_in_erp"),
    "order_total_mismatch": ("recon_orders", "order_key", "total_mismatch"),
    "shipment_unposted": ("recon_shipments", "order_key", "not_posted"),
    "onhand_mismatch": ("recon_inventory", "sku || '@' || location", "onhand_mismatch"),
    "invoice_po_mismatch": ("recon_supplier", "po_number", "invoice_mismatch"),
}


def recon_keys(definitions: dg.Definitions) -> list[dg.AssetKey]:
    """raw + staging + core + the recon marts: what the recon views need, nothing more."""
    keys = definitions.resolve_all_asset_keys()
    wanted = [k for k in keys if k.path[0] in ("raw", "staging", "core")]
    wanted += [k for k in keys if k.path[0] == "marts" and k.path[-1] in RECON_VIEWS]
    assert {k.path[-1] for k in wanted if k.path[0] == "marts"} == set(RECON_VIEWS)
    # recon_orders reads intake's holds
    return [*wanted, dg.AssetKey(["publish", "erp_sales_orders"])]


def build_world(hub: str, erp, **sandbox_args) -> tuple[dict, str]:
    """Land a sandbox world and build the recon marts at its clock; (truth, as_of)."""
    definitions = defs()
    keys = recon_keys(definitions)
    raw = [k for k in keys if k.path[0] == "raw"]
    with running_sandbox(seed=SEED, skus=SKUS, **sandbox_args) as sb:
        as_of = sb.control.status()["now"]
        env = {**sb.env, **erp_env(erp), "DISTROHUB_AS_OF": as_of}
        landed = run(definitions, hub, env, raw)
        assert landed.success
        truth = sb.control.truth(["discrepancies"])
        built = run(definitions, hub, env, [k for k in keys if k.path[0] != "raw"])
    failed = [e.step_key for e in built.all_events if e.is_step_failure]
    assert built.success, failed
    checks = built.get_asset_check_evaluations()
    # the dbt tests pass; only the `sla` checks fail, on the planted discrepancies past their SLA
    failing = [(c.asset_key.to_user_string(), c.check_name) for c in checks if not c.passed]
    assert checks and {name for _, name in failing} <= {"sla"}, failing
    assert ("marts/recon_orders", "sla") in failing
    return truth, as_of


def plain(amount: str) -> str:
    """An amount as the recon views print it (trailing zeros trimmed)."""
    return format(Decimal(amount).normalize(), "f")


def rows(conn: psycopg.Connection, view: str) -> list[dict]:
    cur = conn.execute(f"select * from marts.{view}")  # noqa: S608 - fixed names
    names = [d.name for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_every_planted_discrepancy_is_in_its_recon_view(hub, erp_discrepancies) -> None:
    truth, as_of = build_world(hub, erp_discrepancies, days=DAYS, scenario="discrepancies")
    planted = truth["discrepancies"]
    assert {d["kind"] for d in planted} == set(VIEW_OF_KIND)
    with psycopg.connect(hub) as conn:
        for view in RECON_VIEWS:
            print(f"\n{view}:")
            for row in rows(conn, view):
                print("  ", {k: str(v) for k, v in row.items() if v is not None})
        for d in planted:
            view, key, code = VIEW_OF_KIND[d["kind"]]
            found = conn.execute(
                f"select * from marts.{view} where {key} = %s and discrepancy = %s",  # noqa: S608
                (d["key"], code),
            ).fetchall()
            assert len(found) == 1, (d, view)
        # every key names a core record (not dbt relationships tests: dbt would run them with
        # a staging + core build, before the marts exist)
        for view, key, core, core_key in (
            ("recon_orders", "order_key", 'core."order"', "order_key"),
            ("recon_shipments", "location", "core.location", "location_code"),
            ("recon_inventory", "sku", "core.item", "sku"),
            ("recon_returns", "return_key", "core.return", "return_key"),
        ):
            (orphans,) = conn.execute(
                f"select count(*) from marts.{view} r where not exists "  # noqa: S608
                f"(select 1 from {core} c where c.{core_key} = r.{key})"
            ).fetchone()
            assert orphans == 0, view
        detail = {d["kind"]: d for d in planted}

        def one(query: str, *args):
            return conn.execute(query, args).fetchone()

        d = detail["order_total_mismatch"]
        storefront, erp = one(
            "select storefront_total, erp_total from marts.recon_orders "
            "where order_key = %s and discrepancy = 'total_mismatch'",
            d["key"],
        )
        assert (str(storefront), str(erp)) == (d["detail"]["storefront"], d["detail"]["erp"])
        d = detail["onhand_mismatch"]
        (difference,) = one(
            "select difference from marts.recon_inventory where sku || '@' || location = %s",
            d["key"],
        )
        assert difference == int(d["detail"]["erp"]) - int(d["detail"]["wms"])
        d = detail["invoice_po_mismatch"]
        sku, actual, expected = one(
            "select sku, actual_value, expected_value from marts.recon_supplier "
            "where po_number = %s and discrepancy = 'invoice_mismatch'",
            d["key"],
        )
        assert d["detail"]["sku"] in sku.split(",")
        assert f"@ {plain(d['detail']['invoice_unit_cost'])}" in actual
        assert f"@ {plain(d['detail']['po_unit_cost'])}" in expected
        d = detail["shipment_unposted"]
        (location,) = one(
            "select location from marts.recon_shipments where order_key = %s", d["key"]
        )
        assert location == d["detail"]["location"]
        (message,) = one(
            "select message from marts.recon_shipments_by_warehouse "
            "where location = %s and discrepancy = 'not_posted'",
            location,
        )
        assert f"from {location} not posted to ERP" in message
        (detected_at,) = one("select max(detected_at) from marts.recon_orders")
        assert detected_at.isoformat().replace("+00:00", "Z") == as_of


def test_clean_world_lists_what_its_stalled_pipeline_left(clean_world: LandedWorld) -> None:
    # the shared clean world, its recon views and exceptions rebuilt at the sandbox clock
    as_of = clean_world.sandbox.control.status()["now"]
    clean_world.rebuild(
        *(f"marts/{view}" for view in RECON_VIEWS),
        "marts/ops_exceptions",
        env={"DISTROHUB_AS_OF": as_of},
    )
    with psycopg.connect(clean_world.hub) as conn:

        def pairs(query: str, *args) -> set[tuple]:
            return set(conn.execute(query, args).fetchall())

        # Orders: every open order older than the grace with no ERP sale is listed, however
        # far the ERP's intake got; one intake holds is held with its reason, not missing.
        expected = pairs(
            """select o.order_key,
                      case when h.hold_reason is null then 'missing_in_erp' else 'held' end,
                      coalesce('held: ' || h.hold_reason, 'missing')
                 from core."order" o
                 left join (select order_key, min(hold_reason) as hold_reason
                              from publish.erp_sales_orders where hold_reason is not null
                             group by order_key) h on h.order_key = o.order_key
                where not o.is_cancelled and o.erp_sale_count = 0
                  and o.created_at <= %s::timestamptz - interval '15 minutes'""",
            as_of,
        )
        assert {d for _, d, _ in expected} == {"missing_in_erp", "held"}, expected
        assert pairs("select order_key, discrepancy, erp_value from marts.recon_orders") == expected
        # Shipments: nothing posts them, so every confirmation is listed; each is linked to its
        # order (the 3PL's confirmation of a history release, HIST-<order>, by the 3PL's
        # shipment_matching rule), so none is unmatched.
        expected = pairs(
            """select s.system, s.shipment_id,
                      case when s.order_key is null then 'unmatched' else 'not_posted' end
                 from core.shipment s
                 left join core."order" o on o.order_key = s.order_key
                where o.erp_shipment_state is distinct from 'sent'"""
        )
        assert expected and all(d == "not_posted" for *_, d in expected), expected
        found = pairs(
            """select shipment_system, shipment_id, discrepancy from marts.recon_shipments
                where discrepancy <> 'not_invoiced'"""
        )
        assert found == expected
        (unposted_in_time,) = conn.execute(
            """select count(*) from marts.recon_shipments
                where discrepancy <> 'not_invoiced' and age_hours > sla_hours
                  and sla_status <> 'breached'"""
        ).fetchone()
        assert unposted_in_time == 0
        # the data agree: no other discrepancy anywhere
        for view in ("recon_inventory", "recon_returns"):
            assert rows(conn, view) == [], view
        (invoice_mismatches,) = conn.execute(
            "select count(*) from marts.recon_supplier where discrepancy = 'invoice_mismatch'"
        ).fetchone()
        assert invoice_mismatches == 0
        found = [r for r in rows(conn, "recon_supplier") if r["sla_status"] == "breached"]
        assert found == []


def test_a_history_945_is_linked_to_its_order_and_not_routed_again(
    clean_world: LandedWorld,
) -> None:
    # The sandbox's 3PL confirms a release it had before the hub as HIST-<order key>: the 3PL's
    # shipment_matching rule (defs.yaml) links it to its order, so the order is shipped: it is
    # no open demand, not routed or released again, and its confirmation is not unmatched.
    with psycopg.connect(clean_world.hub) as conn:
        history = conn.execute(
            """select shipment_id, order_ref, order_key, matched_by from core.shipment
                where system = 'tpl_midway' and order_ref like 'HIST-%'"""
        ).fetchall()
        assert history
        for _, order_ref, order_key, matched_by in history:
            assert order_key == order_ref.removeprefix("HIST-"), history
            assert matched_by == "shipment_matching.order_reference[0]", history
        keys = [order_key for _, _, order_key, _ in history]
        # the order is still open in its store (nothing published its fulfillment yet): only
        # the linked confirmation keeps it from being routed twice
        (open_in_store,) = conn.execute(
            """select count(*) from core."order"
                where order_key = any(%s) and not is_cancelled
                  and coalesce(fulfillment_status, 'unfulfilled') in ('unfulfilled', 'partial')""",
            (keys,),
        ).fetchone()
        assert open_in_store == len(keys)
        for relation in (
            "marts.int_orders__open_lines",
            "marts.order_routing",
            "publish.warehouse_releases",
        ):
            (found,) = conn.execute(
                f"select count(*) from {relation} where order_key = any(%s)",  # noqa: S608
                (keys,),
            ).fetchone()
            assert found == 0, relation
        (unmatched,) = conn.execute(
            """select count(*) from marts.recon_shipments
                where discrepancy = 'unmatched' and shipment_id = any(%s)""",
            ([shipment_id for shipment_id, *_ in history],),
        ).fetchone()
        assert unmatched == 0


UNKNOWN_REF, UNKNOWN_SHIPMENT = "WO-88123", "SHP-UNMATCHED-1"
SHIPMENT_MARTS = ("core/shipment", "marts/recon_shipments", "marts/ops_exceptions")


def test_a_confirmation_no_rule_links_is_an_exception_naming_it_and_the_fix(
    clean_world: LandedWorld,
) -> None:
    # A 945 as the 3PL sends it (a landed one, its reference and shipment id changed) whose
    # reference is no order, no release and fits no rule of the 3PL: it stays unmatched, and
    # ops_exceptions names the record and the YAML key that would link it.
    as_of = clean_world.sandbox.control.status()["now"]
    env = {"DISTROHUB_AS_OF": as_of}
    with psycopg.connect(clean_world.hub, autocommit=True) as conn:
        (seq,) = conn.execute(
            """insert into raw.tpl_midway__shipping_advices
                      (record_key, payload, _payload_hash, _batch_id, _source)
               select record_key || '-unmatched',
                      jsonb_set(jsonb_set(jsonb_set(payload,
                          '{record_key}', to_jsonb(record_key || '-unmatched')),
                          '{document,depositor_order_number}', to_jsonb(%s::text)),
                          '{document,shipment_id}', to_jsonb(%s::text)),
                      'test-unmatched', gen_random_uuid(), 'test'
                 from raw.tpl_midway__shipping_advices
                where payload#>>'{document,depositor_order_number}' like 'HIST-%%'
                order by _seq desc limit 1
               returning _seq""",
            (UNKNOWN_REF, UNKNOWN_SHIPMENT),
        ).fetchone()
        try:
            clean_world.rebuild(*SHIPMENT_MARTS, env=env)
            (order_key,) = conn.execute(
                "select order_key from core.shipment where shipment_id = %s", (UNKNOWN_SHIPMENT,)
            ).fetchone()
            assert order_key is None
            (discrepancy, order_ref) = conn.execute(
                """select discrepancy, order_ref from marts.recon_shipments
                    where shipment_id = %s and sla_status = 'breached'""",
                (UNKNOWN_SHIPMENT,),
            ).fetchone()
            assert (discrepancy, order_ref) == ("unmatched", UNKNOWN_REF)
            (system, detail, remediation) = conn.execute(
                """select system, detail, remediation from marts.ops_exceptions
                    where error_code = 'shipment_unmatched' and record_key = %s""",
                (UNKNOWN_SHIPMENT,),
            ).fetchone()
            assert system == "tpl_midway"
            assert UNKNOWN_SHIPMENT in detail and UNKNOWN_REF in detail, detail
            for part in (
                f"link confirmation {UNKNOWN_SHIPMENT} of tpl_midway",
                f"order reference {UNKNOWN_REF}",
                "settings.shipment_matching.order_reference",
                "defs.yaml block of tpl_midway",
            ):
                assert part in remediation, remediation
        finally:
            conn.execute("delete from raw.tpl_midway__shipping_advices where _seq = %s", (seq,))
            clean_world.rebuild(*SHIPMENT_MARTS, env=env)


DROP_SHIP_ASN = "ASN-DROPSHIP-TEST-1"
# the 856 as landed, shipped to a customer (the shipment level's ship-to has no location id)
# and naming the order as its PO number (PRF01), the way a drop-ship supplier confirms
DROP_SHIP_PAYLOAD = """
    jsonb_set(jsonb_set(jsonb_set(jsonb_set(payload,
        '{record_key}', to_jsonb(record_key || '-dropship')),
        '{document,shipment_id}', to_jsonb(%(asn)s::text)),
        '{document,items,0,po_number}', to_jsonb(%(order_key)s::text)),
        '{document,nodes}', (
            select jsonb_agg(
                case when node->>'level' = 'S' then jsonb_set(node, '{parties}', (
                    select coalesce(jsonb_agg(
                        case when party->>'role' = 'ST'
                            then party || '{"id": "", "id_qualifier": ""}'::jsonb
                            else party end), '[]'::jsonb)
                    from jsonb_array_elements(node->'parties') as party))
                else node end
                order by position)
            from jsonb_array_elements(payload#>'{document,nodes}')
                with ordinality as nodes (node, position)))
"""
DROP_SHIP_MODELS = ("core/shipment", "marts/int_orders__open_lines", "marts/order_routing")


def test_a_drop_ship_856_is_linked_to_its_order_and_not_routed_again(
    clean_world: LandedWorld,
) -> None:
    # A drop-ship supplier confirms with an X12 856 shipped to the customer: core.shipment
    # links it to the order like any confirmation, so the drop-ship line is no open demand
    # and is not routed to the supplier again.
    with psycopg.connect(clean_world.hub, autocommit=True) as conn:

        def routed(order_key: str) -> tuple[int, int]:
            return tuple(
                conn.execute(
                    f"select count(*) from {relation} where order_key = %s",  # noqa: S608
                    (order_key,),
                ).fetchone()[0]
                for relation in ("marts.int_orders__open_lines", "marts.order_routing")
            )

        line = conn.execute(
            """select order_key, drop_ship_supplier from marts.int_orders__open_lines
                where supply_kind = 'drop_ship' order by created_at, order_key limit 1"""
        ).fetchone()
        assert line, "the clean world has an open drop-ship line"
        order_key, supplier = line
        system = f"supplier_{supplier.lower()}"
        assert all(routed(order_key)), "routed to its supplier before any 856"
        sources = [
            table
            for (table,) in conn.execute(
                """select quote_ident(table_name) from information_schema.tables
                    where table_schema = 'raw' and table_name like 'supplier\\_%%\\_\\_ship_notices'
                    order by table_name"""
            ).fetchall()
        ]
        source = next(
            t
            for t in sources
            if conn.execute(f"select exists (select from raw.{t})").fetchone()[0]  # noqa: S608
        )
        (seq,) = conn.execute(
            f"""insert into raw.{system}__ship_notices
                       (record_key, payload, _payload_hash, _batch_id, _source)
                select record_key || '-dropship', {DROP_SHIP_PAYLOAD},
                       'test-dropship', gen_random_uuid(), 'test'
                  from raw.{source} order by _seq desc limit 1
                returning _seq""",  # noqa: S608 - fixed names
            {"asn": DROP_SHIP_ASN, "order_key": order_key},
        ).fetchone()
        try:
            clean_world.rebuild(*DROP_SHIP_MODELS)
            shipment = conn.execute(
                """select source, location, order_ref, order_key, matched_by
                     from core.shipment where shipment_id = %s""",
                (DROP_SHIP_ASN,),
            ).fetchone()
            assert shipment == (
                "supplier",
                f"DROPSHIP-{supplier.upper()}",
                order_key,
                order_key,
                "order_reference",
            )
            assert routed(order_key) == (0, 0)
        finally:
            conn.execute(f"delete from raw.{system}__ship_notices where _seq = %s", (seq,))  # noqa: S608
            clean_world.rebuild(*DROP_SHIP_MODELS)
