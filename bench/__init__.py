"""distrohub's benchmarks: how fast and how big, measured on the machine at hand.

``distrohub bench`` (``make bench``) runs the measurements in :data:`bench.cli.MEASUREMENTS`
at a scale (``--scale smoke|default`` and the knobs ``--skus``, ``--locations``,
``--channels``, ``--orders``...), prints one table, and writes ``bench/results/<stamp>.json``,
``bench/results/latest.json`` and ``bench/results/latest.png``.

Each measurement is a module with ``run(ctx: BenchContext) -> Measurement``. Targets are
goals the figures are compared against, never assertions: a missed target is printed as
missed. The bench is neither the product nor the sandbox: it drives both, as the tests do.
"""
