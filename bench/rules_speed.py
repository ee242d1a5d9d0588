"""`rules.evaluate` alone, on one core: evaluations per second over every named case and profile.

Run by run.py in its own process, pinned to one CPU, and printing one line of JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import rules
from bench.seed import answer_sets

EVALUATIONS = 60_000
ROUNDS = 5


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    varied = answer_sets()
    for answers in varied:  # warm: the rule set is loaded once per process
        rules.evaluate(answers)
    per_round = EVALUATIONS // ROUNDS
    wall, cpu = [], []
    for _ in range(ROUNDS):
        started, started_cpu = time.perf_counter(), time.process_time()
        for number in range(per_round):
            rules.evaluate(varied[number % len(varied)])
        wall.append(per_round / (time.perf_counter() - started))
        cpu.append(per_round / (time.process_time() - started_cpu))
    print(
        json.dumps(
            {
                "answer_sets": len(varied),
                "evaluations": per_round * ROUNDS,
                "per_s_wall": round(statistics.median(wall)),
                "per_s_cpu": round(statistics.median(cpu)),
            }
        )
    )


if __name__ == "__main__":
    main()
