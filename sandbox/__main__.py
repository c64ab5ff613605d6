"""`python -m sandbox`: start localstripe and the billing emulator together; Ctrl-C stops both."""

import argparse
import logging
import signal
import subprocess
import sys
import threading
import time

import requests

from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer

logger = logging.getLogger("sandbox")


def wait_for_localstripe(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"localstripe exited with code {process.returncode}")
        try:
            requests.get(f"{url}/v1/customers", timeout=1)
            return  # any answer (401 without a key) means it is listening
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"localstripe did not answer on {url} within {timeout:.0f}s")


def main(argv=None) -> int:
    config = SandboxConfig.from_env()
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--api-port", type=int, default=config.api_port)
    parser.add_argument("--localstripe-port", type=int, default=config.localstripe_port)
    parser.add_argument("--settle-seconds", type=float, default=config.settle_seconds)
    parser.add_argument(
        "--external-localstripe",
        action="store_true",
        help="use a localstripe that is already running instead of starting one",
    )
    args = parser.parse_args(argv)
    config.host, config.api_port = args.host, args.api_port
    config.localstripe_port, config.settle_seconds = args.localstripe_port, args.settle_seconds

    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(message)s")
    localstripe = None
    if not args.external_localstripe:
        localstripe = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [
                sys.executable,
                "-m",
                "localstripe",
                "--port",
                str(config.localstripe_port),
                "--from-scratch",
            ],
        )
    stopping = threading.Event()
    localstripe_died = threading.Event()
    try:
        if localstripe is not None:
            wait_for_localstripe(config.localstripe_url, localstripe)
        server = SandboxServer(config)

        def stop(signum, frame):
            if not stopping.is_set():
                stopping.set()
                threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if localstripe is not None:

            def watch():
                localstripe.wait()
                if not stopping.is_set():
                    localstripe_died.set()
                    logger.error("localstripe stopped (code %s); stopping", localstripe.returncode)
                    stop(None, None)

            threading.Thread(target=watch, daemon=True).start()

        logger.info(
            "Cloudflare billing sandbox on http://%s:%d/client/v4 (localstripe %s)",
            config.host,
            config.api_port,
            config.localstripe_url,
        )
        server.serve_forever(poll_interval=0.2)
        server.server_close()
    finally:
        if localstripe is not None and localstripe.poll() is None:
            localstripe.terminate()
            try:
                localstripe.wait(timeout=5)
            except subprocess.TimeoutExpired:
                localstripe.kill()
    return 1 if localstripe_died.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
