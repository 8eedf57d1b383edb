"""(Re)write the committed Great Expectations file context under ``expectations/``.

The JSON it writes (suites, validation definitions, the data source in
``great_expectations.yml``) is what the gate reads and what is committed; this
script is the readable source of the suites. Run it after changing a suite and
commit the diff:

    PYTHONPATH=. .venv/bin/python scripts/build_gx_suites.py

It needs no database: the data source's connection string stays the config
variable ``${DISTROHUB_GX_CONNECTION_STRING}`` (set in-process by the runner).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.datasource.fluent import PostgresDatasource
from great_expectations.datasource.fluent.sql_datasource import TableAsset

ROOT = Path(__file__).resolve().parents[1] / "expectations"
DATA_SOURCE = "distrohub"
BATCH = "whole_table"
CONNECTION_VARIABLE = "DISTROHUB_GX_CONNECTION_STRING"
# the currencies the hub prices in (dbt var currency_rounding)
KNOWN_CURRENCIES = ["USD", "CAD", "JPY"]


def _unique(columns: list[str]) -> gxe.Expectation:
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(
            column=columns[0], description=f"{columns[0]} is unique (the record key)"
        )
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=columns, description=f"({', '.join(columns)}) is unique (the record key)"
    )


def _not_null(column: str, why: str = "") -> gxe.Expectation:
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column, description=f"{column} is not null{why}"
    )


def _positive(column: str) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=0, strict_min=True, description=f"{column} > 0"
    )


def _non_negative(column: str) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=0, description=f"{column} >= 0"
    )


def _rows(name: str, columns: list[str], description: str, query: str) -> gxe.Expectation:
    """An UnexpectedRowsExpectation; meta names the model columns it reads."""
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=" ".join(query.split()),
        description=description,
        meta={"name": name, "columns": columns},
    )


def _sku_known(model_column: str = "sku") -> gxe.Expectation:
    return _rows(
        "sku_known_to_erp",
        [model_column],
        f"every {model_column} is an item code of the ERP (staging.stg_tryton__items)",
        # {batch} is substituted as "(select ...) as subselect": no alias of our own
        f"""select {model_column} from {{batch}}
            where {model_column} not in (
                select i.sku from staging.stg_tryton__items i where i.sku is not null)""",  # noqa: S608
    )


def suites() -> dict[str, list[gxe.Expectation]]:
    return {
        "storefront_inventory": [
            _unique(["system", "inventory_item_id", "location_id"]),
            _unique(["record_key"]),
            *(_not_null(c) for c in ("record_key", "system", "inventory_item_id", "location_id")),
            _not_null("available"),
            _non_negative("available"),
            _not_null("supply_selling_units"),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="supply_selling_units",
                column_B="available",
                or_equal=True,
                description="available <= supply_selling_units (the location's supply for "
                "the SKU plus allowed incoming, in selling units)",
            ),
            _rows(
                "inventory_item_known_to_store",
                ["system", "inventory_item_id"],
                "every (system, inventory_item_id) is an inventory item of that store "
                "(staging.stg_shopify__inventory_items)",
                # `not exists` (an anti join PostgreSQL hashes whatever its estimate of the
                # store's items), not `not in` (a scan per row when it will not hash); no JOIN
                # keyword, so GX keeps aliasing {batch} itself; the store's columns are renamed
                # so the bare names are the batch's
                """select system, inventory_item_id from {batch}
                   where system is not null and inventory_item_id is not null
                     and not exists (
                         select 1
                         from (select i.system as store_system,
                                      i.inventory_item_id as store_item_id
                                 from staging.stg_shopify__inventory_items i) as store
                         where store.store_system = system
                           and store.store_item_id = inventory_item_id)""",
            ),
        ],
        "storefront_prices": [
            _unique(["system", "variant_id"]),
            *(_not_null(c) for c in ("system", "variant_id", "sku", "currency")),
            _not_null("price"),
            _positive("price"),
            _not_null("list_price", " (a price without a list price cannot be checked)"),
            _rows(
                "price_within_list_price_band",
                ["price", "list_price"],
                "price between 0.1x and 3x the channel's list price for the variant's units",
                """select system, variant_id, sku, price, list_price from {batch}
                   where price < 0.1 * list_price or price > 3 * list_price""",
            ),
            _rows(
                "variant_known_to_store",
                ["system", "variant_id"],
                "every (system, variant_id) is a variant of that store "
                "(staging.stg_shopify__product_variants)",
                # `not exists`, not `not in`: the store's variants are unnested from JSON and
                # over-estimated a hundredfold, so PostgreSQL would not hash a `not in` (a scan
                # of every variant per price); see inventory_item_known_to_store
                """select system, variant_id from {batch}
                   where system is not null and variant_id is not null
                     and not exists (
                         select 1
                         from (select v.system as store_system,
                                      v.variant_id as store_variant_id
                                 from staging.stg_shopify__product_variants v) as store
                         where store.store_system = system
                           and store.store_variant_id = variant_id)""",
            ),
        ],
        "erp_sales_orders": [
            _unique(["order_key", "line_number"]),
            _unique(["order_line_key"]),
            *(_not_null(c) for c in ("order_key", "order_line_key", "line_number", "sku")),
            _not_null("quantity"),
            _positive("quantity"),
            _not_null("unit_price"),
            _non_negative("unit_price"),
            _not_null("currency"),
            gxe.ExpectColumnValuesToBeInSet(
                column="currency",
                value_set=KNOWN_CURRENCIES,
                description="currency is one the hub prices in (dbt var currency_rounding)",
            ),
            _sku_known(),
        ],
        "warehouse_releases": [
            _unique(["release_key", "line_number", "sku"]),
            *(_not_null(c) for c in ("release_key", "line_number", "sku")),
            _not_null("quantity"),
            _positive("quantity"),
            _sku_known(),
        ],
        "supplier_purchase_orders": [
            _unique(["po_number", "purchase_line_id"]),
            *(_not_null(c) for c in ("po_number", "purchase_line_id", "sku")),
            _not_null("quantity"),
            _positive("quantity"),
            _not_null("unit_cost"),
            _positive("unit_cost"),
            _sku_known(),
        ],
        "storefront_fulfillments": [
            _unique(["storefront_system", "storefront_order_id", "shipment_id"]),
            *(_not_null(c) for c in ("storefront_system", "storefront_order_id", "shipment_id")),
            _not_null("quantity"),
            _positive("quantity"),
            _not_null("tracking_number"),
        ],
        "erp_returns": [
            _unique(["return_key", "line_number"]),
            _unique(["return_line_key"]),
            *(_not_null(c) for c in ("return_key", "line_number", "sku", "location", "order_key")),
            _not_null("quantity"),
            _positive("quantity"),
            _non_negative("unit_price"),
            gxe.ExpectColumnValuesToBeInSet(
                column="outcome",
                value_set=["restock", "damaged"],
                description="outcome is null (not inspected yet), restock or damaged",
            ),
        ],
        "customer_notices": [
            _unique(["order_key", "event", "event_ref"]),
            *(_not_null(c) for c in ("order_key", "event", "event_ref", "lines")),
            gxe.ExpectColumnValuesToBeInSet(
                column="event",
                value_set=["shipped", "partly_shipped", "backordered", "cancelled", "refunded"],
                description="event is one with a template (publish/templates/notices/)",
            ),
            _rows(
                "sent_only_with_an_address",
                ["email", "hold_reason"],
                "a notice not held has an e-mail address (one @, no spaces)",
                """select order_key, event, event_ref, email from {batch}
                   where hold_reason is null
                     and (email is null or email !~ '^[^@[:space:]]+@[^@[:space:]]+$')""",
            ),
        ],
        "order_cancellations": [
            _unique(["cancel_key"]),
            *(
                _not_null(c)
                for c in ("cancel_key", "order_key", "step", "target_system", "erp_sale_id")
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="step",
                value_set=["warehouse_cancel", "erp_cancel"],
                description="step is warehouse_cancel or erp_cancel (each has its transport)",
            ),
        ],
        "erp_shipment_postings": [
            _unique(["shipment_key", "sku"]),
            *(_not_null(c) for c in ("shipment_key", "order_key", "erp_sale_id", "sku")),
            _not_null("quantity"),
            _positive("quantity"),
            _not_null("expected_amount"),
            _non_negative("expected_amount"),
            gxe.ExpectColumnValuesToBeInSet(
                column="backorder_policy",
                value_set=["allow", "cancel"],
                description="a short shipment's rest is kept open (allow) or cancelled",
            ),
            _sku_known(),
        ],
    }


def main() -> None:
    os.environ.setdefault(CONNECTION_VARIABLE, "postgresql+psycopg://gx@localhost/unused")
    with tempfile.TemporaryDirectory() as tmp:
        context = gx.get_context(mode="file", project_root_dir=tmp)
        # get_context(project_root_dir=...) scaffolds <root>/gx; build there, then copy
        build = Path(context.root_directory)
        # the data source and its table assets are declared without a database: GX would
        # test the connection and each table on add
        with (
            mock.patch.object(PostgresDatasource, "test_connection"),
            mock.patch.object(TableAsset, "test_connection"),
        ):
            source = context.data_sources.add_postgres(
                DATA_SOURCE, connection_string="${" + CONNECTION_VARIABLE + "}"
            )
            batches = {
                model: source.add_table_asset(
                    f"publish.{model}", schema_name="publish", table_name=model
                ).add_batch_definition_whole_table(BATCH)
                for model in suites()
            }
        for model, expectations in suites().items():
            name = f"publish.{model}"
            batch = batches[model]
            suite = context.suites.add(gx.ExpectationSuite(name=name))
            for expectation in expectations:
                suite.add_expectation(expectation)
            suite.save()
            context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
        for sub in ("expectations", "validation_definitions"):
            target = ROOT / sub
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(build / sub, target)
        config = (build / "great_expectations.yml").read_text()
        config = config.replace("analytics_enabled:\n", "analytics_enabled: false\n")
        # no tqdm bars on the gate's stderr
        config += "progress_bars:\n  globally: false\n  metric_calculations: false\n"
        (ROOT / "great_expectations.yml").write_text(config)
        # GX creates the checkpoint store's folder on load: commit it so a run creates nothing
        (ROOT / "checkpoints").mkdir(exist_ok=True)
        (ROOT / "checkpoints" / ".gitkeep").touch()
    print(f"wrote {ROOT}")


if __name__ == "__main__":
    main()
