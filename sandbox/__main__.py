"""`python -m sandbox`: start localstripe and the billing emulator together; Ctrl-C stops both."""

import argparse
import asyncio
import contextlib
import logging
import signal
import subprocess
import sys

import aiohttp
from aiohttp import web

from sandbox.app import make_app
from sandbox.config import SandboxConfig

logger = logging.getLogger("sandbox")


async def wait_for_localstripe(url: str, process: subprocess.Popen, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"localstripe exited with code {process.returncode}")
            try:
                async with session.get(f"{url}/v1/customers", timeout=aiohttp.ClientTimeout(1)):
                    return  # any answer (401 without a key) means it is listening
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"localstripe did not answer on {url} within {timeout:.0f}s")


async def serve(config: SandboxConfig, localstripe: subprocess.Popen | None) -> int:
    """Serve until SIGINT/SIGTERM, or until localstripe dies under us (exit code 1)."""
    if localstripe is not None:
        await wait_for_localstripe(config.localstripe_url, localstripe)
    # Stopping cuts requests still in flight (a "hang" fault holds one for up to a minute)
    # after a moment, so that localstripe is stopped before whoever stopped us gives up.
    runner = web.AppRunner(make_app(config), access_log=logger, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, config.host, config.api_port).start()
    logger.info(
        "Cloudflare billing sandbox on http://%s:%d/client/v4 (localstripe %s)",
        config.host,
        config.api_port,
        config.localstripe_url,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    localstripe_died = False
    try:
        while not stop.is_set():
            if localstripe is not None and localstripe.poll() is not None:
                logger.error("localstripe stopped (code %s); stopping", localstripe.returncode)
                localstripe_died = True
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
    finally:
        await runner.cleanup()
    return 1 if localstripe_died else 0


def main(argv=None) -> int:
    config = SandboxConfig.from_env()
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--api-port", type=int, default=config.api_port)
    parser.add_argument("--localstripe-port", type=int, default=config.localstripe_port)
    parser.add_argument("--settle-seconds", type=float, default=config.settle_seconds)
    parser.add_argument(
        "--no-demo-history",
        action="store_true",
        help="start the demo accounts with empty books (the tests do)",
    )
    parser.add_argument(
        "--external-localstripe",
        action="store_true",
        help="use a localstripe that is already running instead of starting one",
    )
    args = parser.parse_args(argv)
    config.host, config.api_port = args.host, args.api_port
    config.localstripe_port, config.settle_seconds = args.localstripe_port, args.settle_seconds
    config.demo_history = config.demo_history and not args.no_demo_history

    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(message)s")
    localstripe = None
    if not args.external_localstripe:
        localstripe = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [
                sys.executable,
                "-m",
                "sandbox.localstripe_server",  # on 127.0.0.1 only
                "--port",
                str(config.localstripe_port),
            ],
        )
    try:
        return asyncio.run(serve(config, localstripe))
    finally:
        if localstripe is not None and localstripe.poll() is None:
            localstripe.terminate()
            try:
                localstripe.wait(timeout=5)
            except subprocess.TimeoutExpired:
                localstripe.kill()


if __name__ == "__main__":
    sys.exit(main())
