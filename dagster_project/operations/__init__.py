"""Operating the hub: freshness SLAs, SLA checks, the status summary, automation."""
