"""`python -m sandbox.localstripe_server --port N`: localstripe on 127.0.0.1 only.

localstripe's own command listens on every address of the machine ("::"), and it answers anyone
without a real key; the sandbox's payments stay on this machine. Like `--from-scratch`, nothing
is loaded from an earlier run."""

import argparse
import logging

from aiohttp import web
from localstripe.server import app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.localstripe_server")
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args(argv)
    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.DEBUG)
    access_log.addHandler(logging.StreamHandler())
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=access_log)


if __name__ == "__main__":
    main()
