"""Serve a baseline app of `bench/collect_apps.py` as `troth serve` serves its workers.

uvicorn (uvloop, httptools, no access log) in worker processes that each accept on a socket
of their own (`troth.workers`), where the `uvicorn` command's workers share one.

Run: .venv/bin/python bench/collect_serve.py bench.collect_apps:starlette --port 8000 [--workers 2]
"""

from __future__ import annotations

import argparse

import uvicorn

from troth import workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("app", help="an import string, such as bench.collect_apps:starlette")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = uvicorn.Config(
        args.app, host="127.0.0.1", port=args.port, workers=args.workers,
        loop="uvloop", http="httptools", access_log=False,
    )  # fmt: skip
    workers.run(config)


if __name__ == "__main__":
    main()
