"""Benchmarks (not tests): `make bench` (ingestion) and `make bench-queue` (the job queue
side by side with other PostgreSQL queues). See docs/benchmarks.md."""
