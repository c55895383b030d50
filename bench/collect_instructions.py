"""Instructions one `POST /api/collect` costs in process, beside the Starlette 204 app: counted
by valgrind's callgrind, so the figure does not move with whatever else the machine runs (the
CPU times of `collect_request.py` move by a fifth from minute to minute here).

    .venv/bin/python bench/collect_instructions.py
    .venv/bin/python bench/collect_instructions.py --code <an older checkout>/src --code src

Each `--code` directory is imported in a process of its own under callgrind (needs
`apt-get install -y valgrind`; a run takes about two minutes). The apps and the requests are
`collect_request.py`'s: Troth as `troth serve` builds it, with the journal answered at once
(no disk), 32 requests in flight, the garbage collector tuned as in a serving process. Start-up
and a warm-up of every page view are left out of the count; hash randomization is off, so two
runs of the same code agree closely.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import callgrind

REQUESTS = 2_000
WARM_UP = 800


def measure() -> None:
    """The child: each app warmed up, then counted over REQUESTS requests."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from bench.collect_apps import starlette
    from bench.collect_request import App, cpu_us, troth_app
    from troth import collector

    with tempfile.TemporaryDirectory() as work:
        troth = troth_app(Path(work), durable=False)
        baseline: App = ProxyHeadersMiddleware(starlette, trusted_hosts="127.0.0.1")  # type: ignore[arg-type,assignment]
        collector.tune()  # as a serving process does once its app is built
        for name, app, status in (("starlette", baseline, 204), ("troth", troth, 202)):
            cpu_us(app, WARM_UP, status)
            callgrind.zero()
            cpu_us(app, REQUESTS, status)
            callgrind.dump(name)


def main() -> None:
    codes, child = callgrind.command_line(__doc__)
    if child:
        measure()
        return
    print("| code | Starlette 204, instructions per request | Troth | × Starlette |")
    print("| --- | ---: | ---: | ---: |")
    for code in codes:
        base, troth = (
            n / REQUESTS for n in callgrind.counts(__file__, code, 2, {"PYTHONHASHSEED": "0"})
        )
        print(f"| {code} | {base:,.0f} | {troth:,.0f} | {troth / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
