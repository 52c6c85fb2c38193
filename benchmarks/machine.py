"""What machine a benchmark ran on: recorded with every result."""

from __future__ import annotations

import os
import platform
import subprocess


def cpu_name() -> str:
    """The CPU model (``/proc/cpuinfo``'s "model name", else ``lscpu``'s "Model name", else what
    :mod:`platform` knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> str:
    """CPU model, cores, RAM, Python and torch versions."""
    import torch

    ram = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    return (f"{cpu_name()}, {os.cpu_count()} cores, {ram} GiB RAM, Python {platform.python_version()}, "
            f"torch {torch.__version__} (CPU)")
