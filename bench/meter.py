"""CPU seconds and peak memory of each process of the stack during one measured run."""

from __future__ import annotations

import threading
from typing import Any

import psutil


class Meter:
    """Samples RSS every 0.2 s on a thread; CPU comes from the kernel's counters at start and stop."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.2) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.interval_s = interval_s
        self.peak_rss = dict.fromkeys(pids, 0)
        self._cpu_before: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            for name, process in self.processes.items():
                try:
                    self.peak_rss[name] = max(self.peak_rss[name], process.memory_info().rss)
                except psutil.Error:
                    continue

    def start(self) -> None:
        self._cpu_before = {name: self._cpu(p) for name, p in self.processes.items()}
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        cpu = {
            name: round(self._cpu(p) - self._cpu_before[name], 2)
            for name, p in self.processes.items()
        }
        rss = {name: round(peak / 2**20, 1) for name, peak in self.peak_rss.items()}
        return {"cpu_s": cpu, "peak_rss_mb": rss}
