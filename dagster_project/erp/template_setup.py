"""One-time accounting set-up of the Tryton template database, with proteus.

Run as a subprocess by ``server.build_template`` right after ``trytond-admin``
has activated the modules::

    python -m dagster_project.erp.template_setup --config trytond.conf --database tryton_template

It creates what every distrohub ERP database needs before any business data:
the company (in US dollars), a chart of accounts from Tryton's English
template, fiscal years with periods and invoice sequences for last, this and
next calendar year, and an account category for goods. It uses the modules'
own test tools, the set-up Tryton's scenarios use, rather than re-implementing
them. Payment terms: ``account_invoice`` already installs "Upon Receipt" and
"Net 10/15/30/60 days" (with end-of-month variants); the seeder adds the
world's other terms by name.

Why a subprocess: proteus runs trytond in-process, which fixes trytond's
global configuration and keeps a connection pool open on the template; a
template with open connections cannot be cloned. The process exits, the
connections go.

Prints one JSON line on success (ids of what it created); exits non-zero with
Tryton's message otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

TEMPLATE_COMPANY_NAME = "distrohub Distribution"
TEMPLATE_CURRENCY = "USD"
GOODS_CATEGORY = "Goods"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="trytond configuration file")
    parser.add_argument("--database", required=True, help="the (template) database")
    args = parser.parse_args(argv)

    # set_trytond must come before any trytond.modules import, or the backend is fixed
    # to SQLite (docs/architecture.md, Tryton).
    from proteus import config as proteus_config

    cfg = proteus_config.set_trytond(args.database, config_file=args.config)
    result = set_up(cfg)
    print(json.dumps(result))
    return 0


def set_up(cfg) -> dict[str, object]:  # noqa: ANN001 - proteus config object
    """Company, chart of accounts, fiscal years, goods account category."""
    from proteus import Model
    from trytond.modules.account.tests.tools import (
        create_chart,
        create_fiscalyear,
        get_accounts,
    )
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company

    Party = Model.get("party.party")
    party = Party(name=TEMPLATE_COMPANY_NAME)
    party.save()
    create_company(party=party, currency=TEMPLATE_CURRENCY)
    company = get_company()
    create_chart(company)

    this_year = dt.date.today().year
    fiscal_years = []
    for year in (this_year - 1, this_year, this_year + 1):
        fiscalyear = create_fiscalyear(company, today=(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        fiscalyear.name = str(year)
        fiscalyear = set_fiscalyear_invoice_sequences(fiscalyear)
        fiscalyear.save()
        fiscalyear.click("create_period")
        fiscal_years.append(year)

    accounts = get_accounts(company)
    Category = Model.get("product.category")
    category = Category(name=GOODS_CATEGORY)
    category.accounting = True
    category.account_expense = accounts["expense"]
    category.account_revenue = accounts["revenue"]
    category.save()

    return {
        "company": company.id,
        "currency": TEMPLATE_CURRENCY,
        "fiscal_years": fiscal_years,
        "payment_terms": [t.name for t in Model.get("account.invoice.payment_term").find()],
        "goods_category": category.id,
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # report Tryton's message to the parent, not a bare traceback
        print(f"template set-up failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise
