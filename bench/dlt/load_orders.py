"""The bench's peer: dlt's ``rest_api`` source loading a Shopify-contract store's orders.

Run by ``bench/ingest.py`` with the bench-only environment's python (``.venv-bench-dlt``),
never with the project's::

    python bench/dlt/load_orders.py --base-url http://127.0.0.1:PORT --dataset NAME \
        --pipelines-dir DIR [--page-size 250] [--max-table-nesting N]

The same endpoint our connector reads (``/admin/api/2025-07/orders.json``), the same token
header, the same page size and query, the next page followed from the ``Link`` header, into
PostgreSQL. Declared, as dlt's documentation shows it; everything else is dlt's default
(append, ``insert_values`` files, one normalize worker, nested lists unnested into child tables).

Secrets come from the environment only and are never printed:
``DISTROHUB_BENCH_SHOPIFY_TOKEN`` (the store's access token) and
``DESTINATION__POSTGRES__CREDENTIALS`` (dlt's own variable for the destination).
Progress (dlt's log collector) goes to standard error; the result is one JSON line on
standard output: rows per table, seconds per step and in all, CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import dlt
from dlt.common.runtime.collector import LogCollector
from dlt.sources.rest_api import rest_api_source

API_VERSION = "2025-07"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", required=True, help="the store, e.g. http://127.0.0.1:PORT")
    parser.add_argument("--dataset", required=True, help="the schema dlt loads into")
    parser.add_argument("--pipelines-dir", required=True, help="dlt's working folder")
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument(
        "--max-table-nesting",
        type=int,
        default=None,
        help="dlt's max_table_nesting (default: dlt's, i.e. every nested list a child table)",
    )
    args = parser.parse_args()
    token = os.environ.get("DISTROHUB_BENCH_SHOPIFY_TOKEN")
    if not token or not os.environ.get("DESTINATION__POSTGRES__CREDENTIALS"):
        print(
            "set DISTROHUB_BENCH_SHOPIFY_TOKEN and DESTINATION__POSTGRES__CREDENTIALS",
            file=sys.stderr,
        )
        return 2

    source = rest_api_source(
        {
            "client": {
                "base_url": f"{args.base_url.rstrip('/')}/admin/api/{API_VERSION}/",
                "auth": {
                    "type": "api_key",
                    "name": "X-Shopify-Access-Token",
                    "api_key": token,
                    "location": "header",
                },
                "paginator": {"type": "header_link"},
            },
            "resources": [
                {
                    "name": "orders",
                    "endpoint": {
                        "path": "orders.json",
                        "data_selector": "orders",
                        "params": {
                            "limit": args.page_size,
                            "status": "any",
                            "order": "updated_at asc",
                        },
                    },
                }
            ],
        },
        max_table_nesting=args.max_table_nesting,
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_shopify_orders",
        destination="postgres",
        dataset_name=args.dataset,
        pipelines_dir=args.pipelines_dir,
        progress=LogCollector(log_period=5.0, logger=sys.stderr, dump_system_stats=False),
    )
    started, started_cpu = time.perf_counter(), time.process_time()
    pipeline.run(source)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - started_cpu  # every thread of this process
    trace = pipeline.last_trace
    steps = {
        s.step: round((s.finished_at - s.started_at).total_seconds(), 3)
        for s in trace.steps
        if s.started_at and s.finished_at
    }
    rows = dict(trace.last_normalize_info.row_counts) if trace.last_normalize_info else {}
    result = {
        "dlt": dlt.__version__,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "steps": steps,
        "rows": {k: v for k, v in rows.items() if not k.startswith("_dlt")},
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
