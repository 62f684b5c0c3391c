"""The benchmarks of ``make bench`` (never run by CI); ``BENCHMARKS.md`` is written from them."""
