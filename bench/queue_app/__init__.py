"""The job types that `bench/queue.py` runs on our queue: no-op handlers (plain and atomic)
and one that stamps its start time for the start-latency measurement."""
