"""The queues that `bench/queue.py` compares, one module each. A module is run as
`python -m bench.queue_systems.<name> <command> ...` (each system in its own process and
database) with commands `setup`, `enqueue KIND N`, `latency N GAP` and, where the system has
no worker command of its own, `worker`; each prints one JSON object. `base` describes how
the benchmark starts, feeds and watches them."""
