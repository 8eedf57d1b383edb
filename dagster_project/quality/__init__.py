"""The publish gate's checks: GX suites, data versions, blast radius, freshness."""
