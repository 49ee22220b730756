"""Start stamps: a handler appends `seq time` to the file named by BENCH_STAMP_FILE the
moment it starts; the benchmark pairs them with the enqueue times (same machine clock)."""

from __future__ import annotations

import os
import time
from pathlib import Path

STAMP_ENV = "BENCH_STAMP_FILE"


def stamp(seq: int) -> None:
    started = time.time()
    path = os.environ.get(STAMP_ENV)
    if path:
        with open(path, "a") as out:
            out.write(f"{seq} {started:.6f}\n")


def read_stamps(path: Path) -> dict[int, float]:
    stamps: dict[int, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            seq, at = line.split()
            stamps.setdefault(int(seq), float(at))
    return stamps
