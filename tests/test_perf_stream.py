"""benchmarks/perf.py section 8 (streaming training) end to end on a tiny synthetic cache (no LM)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_streaming_section_runs_on_a_tiny_cache_and_keeps_the_rest_of_the_report(tmp_path):
    out = tmp_path / "perf.md"
    out.write_text("# Performance benchmark\n\n## Acceptance targets\n\n| target | result | measured | note |\n"
                   "| --- | --- | --- | --- |\n| other | **PASS** | 1x |  |\n\n## 7. Teacher on Ray\n\nkept\n")
    cmd = [sys.executable, "-m", "benchmarks.perf", "--section", "stream", "--stream-sizes", "200", "600",
           "--stream-vocab", "20", "--stream-hidden", "8", "--stream-epochs", "1", "--stream-no-memory",
           "--stream-dir", str(tmp_path), "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    text = out.read_text()
    assert "## 7. Teacher on Ray\n\nkept" in text and "| other | **PASS** | 1x |" in text
    section = text.split("## 8. Streaming training")[1]
    rows = [line for line in section.splitlines() if line.startswith("| 200 |") or line.startswith("| 600 |")]
    assert len(rows) == 2 and all("| streamed |" in r for r in rows)
    assert "streaming fit: peak RSS 1M vs 100k cached documents <= 1.2x" in text.split("## 7.")[0]
    assert "streaming fit: epoch time linear in N" in text.split("## 7.")[0]
    assert not list(tmp_path.glob("tmp*")), "the synthetic caches are removed"
