"""One export in a fresh process, for its memory growth: ``python -m bench.fresh_export /api/v1/cells/``.

A warm process has its memory already grown by earlier work (and keeps it), so it shows no growth; a fresh
process shows what an export costs a gunicorn worker. The process sets Django up, answers one small page
of the same list (so that code loaded once is not counted), then streams the whole export while its
resident memory is sampled. It prints one JSON line: rows, bytes, seconds, baseline_mb, peak_mb, growth_mb.
The partner's API key comes in ``BENCH_API_KEY``.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(path: str) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assbtrack.settings.dev")
    django.setup()
    from django.test import Client

    from .measure import RssPeak
    from .workloads import _stream

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {os.environ['BENCH_API_KEY']}")
    warm = client.get(f"{path}?page_size=1")
    if warm.status_code != 200:
        raise SystemExit(f"GET {path}?page_size=1 answered {warm.status_code}")
    with RssPeak() as memory:
        started = time.perf_counter()
        response = client.get(f"{path}?export=csv")
        rows, size = _stream(response)
        seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {path}?export=csv answered {response.status_code}")
    return {"rows": rows, "bytes": size, "seconds": seconds, "baseline_mb": memory.start / 1e6,
            "peak_mb": memory.peak / 1e6, "growth_mb": memory.growth_mb}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1])) + "\n")
