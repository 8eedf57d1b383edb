"""The embedded ERP: a real Tryton 8.2 server on the hub's PostgreSQL cluster.

``server`` builds a template database once, clones it, and runs ``trytond``
in the background; ``template_setup`` is the one-time company/accounting
set-up run inside the template (a subprocess, it imports trytond); ``cli`` is
``distrohub erp up|down|status|seed``. The product talks to this ERP only over
JSON-RPC, through ``dagster_project.connectors.tryton``.
"""
