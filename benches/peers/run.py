#!/usr/bin/env python3
"""sqsfast against its peers: the same workloads, the same load generator, one table.

Starts each system on 127.0.0.1 (a free port, a temporary directory), runs every workload against
it, stops it, and writes one Markdown table and one JSON file with the machine, the versions, the
date, the load average and the exact command of every figure:

    python benches/peers/run.py --duration 10s            # everything installed
    python benches/peers/run.py --peers redis,moto --dry-run

sqsfast (in process, gRPC, SQS HTTP API), moto's server and ElasticMQ are measured by
`sqsfast bench`; Redis Streams, RabbitMQ and PostgreSQL by `sqsfast-peer-bench`, the same native
runner with a driver per broker (rust/bench/src/peers/). A system that is not installed or does not
start is listed as skipped, with the reason. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import glob
import json
import os
import platform
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


class Skip(Exception):
    """The system cannot be measured here; the message says why."""


@dataclass
class Started:
    """A running system: what the load generator targets, and how it was started."""

    target: str
    server_command: str | None
    version: str
    #: Overrides the peer's durability note when it is only known once started.
    durability: str | None = None


@dataclass
class Peer:
    """One system under test."""

    name: str
    #: How the load generator reaches it (shown in the table).
    client: str
    #: What an acknowledged send survives, as configured here.
    durability: str
    #: `sqsfast bench` or `sqsfast-peer-bench`.
    runner: str
    #: None when it can be tried, else why not (checked without starting anything).
    check: Callable[[argparse.Namespace], str | None]
    #: Starts it in a temporary directory and stops it on exit.
    start: Callable[[argparse.Namespace, Path], contextlib.AbstractContextManager[Started]]
    #: Flags for this system only, appended to the bench command.
    extra: list[str] = field(default_factory=list)


# --- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Waits until something accepts on 127.0.0.1:port; fails if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Skip(f"exited with status {proc.returncode} while starting: {tail(log)}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.2)
    raise Skip(f"not listening on {LOOPBACK}:{port} after {timeout:.0f} s: {tail(log)}")


def tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


@contextlib.contextmanager
def process(
    argv: list[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
    stop_signal: int = signal.SIGTERM,
    stop: Callable[[], None] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs argv in its own process group; on exit stops that group (and only it)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            user=user,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if stop is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                stop()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, stop_signal)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_S)


def output(argv: list[str], timeout: float = 30.0) -> str:
    """A command's first line of output, or '' if it cannot run."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else ""


def dpkg_version(package: str) -> str:
    return output(["dpkg-query", "-W", "-f", "${Version}", package])


def sqsfast_cli(args: argparse.Namespace) -> list[str]:
    if args.sqsfast:
        argv = shlex.split(args.sqsfast)
        # Servers start in their own directory: a relative path would not be found there.
        if "/" in argv[0]:
            argv[0] = str(Path(argv[0]).resolve())
        return argv
    beside = Path(sys.executable).with_name("sqsfast")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sqsfast")
    return [found] if found else [str(beside)]


def python_version_of(package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return output([sys.executable, "-c", code])


# --- the systems ---------------------------------------------------------------------------------


def check_sqsfast(args: argparse.Namespace) -> str | None:
    cli = sqsfast_cli(args)
    if not Path(cli[0]).exists() and not shutil.which(cli[0]):
        return "the `sqsfast` command is not installed (pip install .)"
    return None


def sqsfast_version(args: argparse.Namespace) -> str:
    """The version of the sqsfast that `sqsfast bench` runs; the git revision when that is this
    working tree (an editable install), since the tree may hold changes after a wheel was built."""
    cli = Path(sqsfast_cli(args)[0])
    python = cli.with_name("python") if cli.with_name("python").exists() else Path(sys.executable)
    code = "import importlib.metadata as m, sqsfast; print(m.version('sqsfast'), sqsfast.__file__)"
    found = output([str(python), "-c", code]).split(" ", 1)
    if len(found) != 2:
        return "?"
    version, location = found
    if not Path(location).resolve().is_relative_to(ROOT / "python"):
        return f"{version} (installed in {Path(location).resolve().parents[1]})"
    rev = output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = output(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return f"{version} (this tree, git {rev}{' with changes' if dirty else ''})"


@contextlib.contextmanager
def start_embedded(args: argparse.Namespace, tmp: Path) -> Iterator[Started]:
    yield Started("embedded", None, sqsfast_version(args))


def start_sqsfast_server(
    kind: str, memory: bool
) -> Callable[..., contextlib.AbstractContextManager[Started]]:
    @contextlib.contextmanager
    def start(args: argparse.Namespace, tmp: Path) -> Iterator[Started]:
        http, grpc = free_port(), free_port()
        argv = sqsfast_cli(args) + ["serve", "--host", LOOPBACK]
        argv += ["--http-port", str(http), "--grpc-port", str(grpc)]
        if args.workers:
            argv += ["--workers", str(args.workers)]
        if memory:
            config = tmp / "sqsfast.toml"
            config.write_text("[storage]\nin_memory = true\n")
            argv += ["--config", str(config)]
        log = tmp / "sqsfast.log"
        # Started in the temporary directory, so that a build that keeps its data on disk by
        # default (./sqsfast-data) keeps it there, with the server's default settings.
        with process(argv, log, cwd=tmp, stop_signal=signal.SIGINT) as proc:
            port = grpc if kind == "grpc" else http
            wait_port(port, proc, log, START_TIMEOUT_S)
            target = f"grpc://{LOOPBACK}:{grpc}" if kind == "grpc" else f"http://{LOOPBACK}:{http}"
            on_disk = any(p.is_dir() for p in tmp.iterdir())
            if memory:
                durability = "memory (`[storage] in_memory = true`)"
            elif on_disk:
                durability = "disk: local log with `sqsfast serve`'s defaults"
            else:
                durability = "memory (this build keeps no data on disk)"
            yield Started(target, shlex.join(argv), sqsfast_version(args), durability)

    return start


def check_moto(args: argparse.Namespace) -> str | None:
    if check_sqsfast(args):
        return check_sqsfast(args)
    if not moto_server_path():
        return "moto's server is not installed (pip install 'moto[server]')"
    return None


def moto_server_path() -> str | None:
    beside = Path(sys.executable).with_name("moto_server")
    return str(beside) if beside.exists() else shutil.which("moto_server")


@contextlib.contextmanager
def start_moto(args: argparse.Namespace, tmp: Path) -> Iterator[Started]:
    port = free_port()
    argv = [str(moto_server_path()), "-H", LOOPBACK, "-p", str(port)]
    log = tmp / "moto.log"
    with process(argv, log) as proc:
        wait_port(port, proc, log, START_TIMEOUT_S)
        yield Started(f"http://{LOOPBACK}:{port}", shlex.join(argv), python_version_of("moto"))


def elasticmq_jar(args: argparse.Namespace) -> str | None:
    if args.elasticmq_jar:
        return str(args.elasticmq_jar)
    if os.environ.get("ELASTICMQ_JAR"):
        return os.environ["ELASTICMQ_JAR"]
    for pattern in ("/opt/elasticmq*/*.jar", "/opt/elasticmq*.jar", "~/elasticmq*.jar"):
        found = sorted(glob.glob(os.path.expanduser(pattern)))
        if found:
            return found[-1]
    return None


def check_elasticmq(args: argparse.Namespace) -> str | None:
    if check_sqsfast(args):
        return check_sqsfast(args)
    if not shutil.which("java"):
        return "no JVM (java) on this machine"
    jar = elasticmq_jar(args)
    if not jar:
        return (
            "no ElasticMQ jar: it is published only as a GitHub release and on Maven Central, "
            "neither of which this machine reaches (pass --elasticmq-jar or set ELASTICMQ_JAR)"
        )
    if not Path(jar).is_file():
        return f"{jar}: no such file"
    return None


@contextlib.contextmanager
def start_elasticmq(args: argparse.Namespace, tmp: Path) -> Iterator[Started]:
    port = free_port()
    conf = tmp / "elasticmq.conf"
    conf.write_text(
        'include classpath("application.conf")\n'
        f'node-address {{ protocol = http, host = "{LOOPBACK}", port = {port}, '
        'context-path = "" }\n'
        f'rest-sqs {{ enabled = true, bind-port = {port}, bind-hostname = "{LOOPBACK}" }}\n'
        "rest-stats { enabled = false }\n"
    )
    jar = str(elasticmq_jar(args))
    argv = ["java", f"-Dconfig.file={conf}", "-jar", jar]
    log = tmp / "elasticmq.log"
    with process(argv, log) as proc:
        wait_port(port, proc, log, START_TIMEOUT_S)
        yield Started(f"http://{LOOPBACK}:{port}", shlex.join(argv), Path(jar).name)


def check_peer_bench(args: argparse.Namespace) -> str | None:
    if peer_bench_path(args).exists() or args.build:
        return None
    return (
        f"{peer_bench_path(args)} is not built "
        "(cargo build --release -p sqsfast-bench --features peers, or pass --build)"
    )


def peer_bench_path(args: argparse.Namespace) -> Path:
    if args.peer_bench:
        return Path(args.peer_bench).resolve()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "sqsfast-peer-bench"


def check_redis(args: argparse.Namespace) -> str | None:
    if not shutil.which("redis-server"):
        return "redis-server is not installed (apt-get install redis-server)"
    return check_peer_bench(args)


@contextlib.contextmanager
def start_redis(args: argparse.Namespace, tmp: Path) -> Iterator[Started]:
    port = free_port()
    argv = ["redis-server", "--bind", LOOPBACK, "--port", str(port), "--dir", str(tmp)]
    # In memory, as sqsfast serve keeps its queues: no RDB snapshots, no append-only file.
    argv += ["--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no"]
    log = tmp / "redis.log"
    with process(argv, log) as proc:
        wait_port(port, proc, log, START_TIMEOUT_S)
        version = output(["redis-server", "--version"])
        m = re.search(r"v=(\S+)", version)
        yield Started(f"redis://{LOOPBACK}:{port}", shlex.join(argv), m.group(1) if m else version)


RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBITMQ_CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def check_rabbitmq(args: argparse.Namespace) -> str | None:
    if not Path(RABBITMQ_SERVER).exists():
        return "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    if not shutil.which("epmd"):
        return "Erlang's epmd is not installed (it comes with rabbitmq-server)"
    return check_peer_bench(args)


@contextlib.contextmanager
def start_rabbitmq(args: argparse.Namespace, tmp: Path) -> Iterator[Started]:
    """A private node: its own name, ports, epmd, cookie ($HOME), data and logs, all in tmp."""
    port, dist, epmd = free_port(), free_port(), free_port()
    node = f"sqsfastbench{os.getpid()}@localhost"
    (tmp / "enabled_plugins").write_text("[].\n")
    (tmp / "rabbitmq.conf").write_text("")
    (tmp / "rabbitmq-env.conf").write_text("")
    env = {
        **os.environ,
        "HOME": str(tmp),
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist),
        "ERL_EPMD_PORT": str(epmd),
        "ERL_EPMD_ADDRESS": LOOPBACK,
        "RABBITMQ_MNESIA_BASE": str(tmp / "mnesia"),
        "RABBITMQ_LOG_BASE": str(tmp / "log"),
        "RABBITMQ_CONFIG_FILE": str(tmp / "rabbitmq"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(tmp / "enabled_plugins"),
        "RABBITMQ_CONF_ENV_FILE": str(tmp / "rabbitmq-env.conf"),
        "RABBITMQ_PID_FILE": str(tmp / "rabbitmq.pid"),
    }
    log = tmp / "rabbitmq.log"

    def stop() -> None:
        subprocess.run(
            [RABBITMQ_CTL, "-n", node, "stop"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=STOP_TIMEOUT_S,
        )

    try:
        with process([RABBITMQ_SERVER], log, env=env, cwd=tmp, stop=stop) as proc:
            wait_port(port, proc, log, START_TIMEOUT_S)
            server = " ".join(
                f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("RABBIT", "ERL_"))
            )
            yield Started(
                f"amqp://guest:guest@{LOOPBACK}:{port}/%2f",
                f"HOME={shlex.quote(str(tmp))} {server} {RABBITMQ_SERVER}",
                f"{dpkg_version('rabbitmq-server')} (Erlang {dpkg_version('erlang-base')})",
            )
    finally:
        # The node started its own epmd as a daemon (outside our process group), on our port.
        subprocess.run(
            ["epmd", "-port", str(epmd), "-kill"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=STOP_TIMEOUT_S,
            check=False,
        )


def postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(re.findall(r"/(\d+)/bin", p)[0]),
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("postgres")
    return Path(which).resolve().parent if which else None


def postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as the `postgres` user (or nobody)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    return None


def check_postgres(args: argparse.Namespace) -> str | None:
    bindir = postgres_bin()
    if bindir is None or not (bindir / "initdb").exists():
        return "PostgreSQL is not installed (apt-get install postgresql)"
    if os.geteuid() == 0 and postgres_user() is None:
        return "running as root and there is no non-root user to run PostgreSQL as"
    return check_peer_bench(args)


@contextlib.contextmanager
def start_postgres(args: argparse.Namespace, tmp: Path) -> Iterator[Started]:
    bindir = postgres_bin()
    assert bindir is not None
    user = postgres_user()
    home = tmp / "pg"
    home.mkdir()
    if user is not None:
        os.chmod(tmp, 0o711)
        shutil.chown(home, user)
    data = home / "data"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8"]
    done = subprocess.run(
        initdb, user=user, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        raise Skip(f"initdb failed: {(done.stderr or done.stdout).strip()[-300:]}")
    port = free_port()
    # Server defaults otherwise: fsync = on, synchronous_commit = on (a commit waits for the WAL).
    argv = [str(bindir / "postgres"), "-D", str(data), "-c", f"listen_addresses={LOOPBACK}"]
    argv += ["-c", f"port={port}", "-c", f"unix_socket_directories={home}"]
    argv += ["-c", "max_connections=200"]
    log = tmp / "postgres.log"
    # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
    with process(argv, log, user=user, stop_signal=signal.SIGINT) as proc:
        wait_port(port, proc, log, START_TIMEOUT_S)
        version = output([str(bindir / "postgres"), "--version"]).replace(
            "postgres (PostgreSQL) ", ""
        )
        as_user = f"(as user {user}) " if user else ""
        yield Started(
            f"postgres://bench@{LOOPBACK}:{port}/postgres",
            as_user + shlex.join(argv),
            version,
        )


PEERS: dict[str, Peer] = {
    p.name: p
    for p in [
        Peer(
            "sqsfast-embedded",
            "sqsfast bench, in process (engine API)",
            "memory",
            "sqsfast",
            check_sqsfast,
            start_embedded,
        ),
        Peer(
            "sqsfast-grpc-mem",
            "sqsfast bench, native gRPC client",
            "memory",
            "sqsfast",
            check_sqsfast,
            start_sqsfast_server("grpc", memory=True),
        ),
        Peer(
            "sqsfast-http-mem",
            "sqsfast bench, native SQS JSON API client",
            "memory",
            "sqsfast",
            check_sqsfast,
            start_sqsfast_server("http", memory=True),
        ),
        Peer(
            "sqsfast-grpc",
            "sqsfast bench, native gRPC client",
            "`sqsfast serve` defaults",
            "sqsfast",
            check_sqsfast,
            start_sqsfast_server("grpc", memory=False),
        ),
        Peer(
            "sqsfast-http",
            "sqsfast bench, native SQS JSON API client",
            "`sqsfast serve` defaults",
            "sqsfast",
            check_sqsfast,
            start_sqsfast_server("http", memory=False),
        ),
        Peer(
            "moto",
            "sqsfast bench, native SQS JSON API client",
            "memory",
            "sqsfast",
            check_moto,
            start_moto,
        ),
        Peer(
            "elasticmq",
            "sqsfast bench, native SQS JSON API client",
            "memory",
            "sqsfast",
            check_elasticmq,
            start_elasticmq,
        ),
        Peer(
            "redis",
            "sqsfast-peer-bench, redis-rs (XADD / XREADGROUP / XACK+XDEL)",
            "memory (no RDB, no AOF)",
            "peer",
            check_redis,
            start_redis,
        ),
        Peer(
            "rabbitmq",
            "sqsfast-peer-bench, lapin (confirms, prefetch, basic.ack)",
            "disk: durable queue, persistent messages, publisher confirms",
            "peer",
            check_rabbitmq,
            start_rabbitmq,
        ),
        Peer(
            "postgresql",
            "sqsfast-peer-bench, tokio-postgres (pgmq statements, SKIP LOCKED)",
            "disk: WAL flushed at each commit (synchronous_commit = on)",
            "peer",
            check_postgres,
            start_postgres,
        ),
    ]
}


SQSFAST = [name for name in PEERS if name.startswith("sqsfast-")]


# --- the runs ------------------------------------------------------------------------------------


def workload_flags(args: argparse.Namespace, workload: str) -> list[str]:
    flags = ["--workload", workload]
    flags += ["--producers", str(args.producers), "--consumers", str(args.consumers)]
    flags += ["--batch", str(args.batch), "--size", str(args.size)]
    flags += ["--duration", args.duration, "--wait", args.wait]
    flags += ["--drain-timeout", args.drain_timeout]
    if args.threads:
        flags += ["--threads", str(args.threads)]
    if workload in ("rate", "long-poll"):
        flags += ["--rate", f"{args.rate:g}"]
    return flags


def bench_command(args: argparse.Namespace, peer: Peer, target: str, workload: str) -> list[str]:
    if peer.runner == "sqsfast":
        argv = sqsfast_cli(args) + ["bench", "--target", target]
    else:
        argv = [str(peer_bench_path(args)), "--target", target]
    return argv + workload_flags(args, workload) + peer.extra


def parse_seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 500ms, 10s, 2m)")
    n = float(m.group(1))
    return {"ms": n / 1000, "s": n, None: n, "m": n * 60}[m.group(2)]


def find_report(data: Any) -> dict[str, Any] | None:
    """The runner's report inside whatever `--json` wrote (the report, or an object holding it)."""
    if isinstance(data, dict):
        if "receive" in data and "latency_us" in data:
            return data
        for value in data.values():
            found = find_report(value)
            if found:
                return found
    if isinstance(data, list):
        for value in data:
            found = find_report(value)
            if found:
                return found
    return None


def run_one(
    args: argparse.Namespace, peer: Peer, started: Started, workload: str, out: Path
) -> dict[str, Any]:
    json_file = out / f"{peer.name}-{workload}.json"
    argv = bench_command(args, peer, started.target, workload) + ["--json", str(json_file)]
    # As a reader would type it: paths relative to the repository, the report file by name.
    shown = shlex.join([*argv[:-1], json_file.name]).replace(str(ROOT) + "/", "")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    budget = parse_seconds(args.duration) + parse_seconds(args.drain_timeout) + 120
    load_before = os.getloadavg()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    print(f"  {workload}: {shown}", flush=True)
    row: dict[str, Any] = {
        "peer": peer.name,
        "workload": workload,
        "command": shown,
        "target": started.target,
        "started_utc": started_at.isoformat(timespec="seconds"),
        "load_before": [round(x, 2) for x in load_before],
    }
    try:
        done = subprocess.run(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=budget,
        )
        row["exit_status"] = done.returncode
        row["stderr_tail"] = done.stderr.strip().splitlines()[-3:]
    except subprocess.TimeoutExpired:
        row["exit_status"] = None
        row["error"] = f"no result after {budget:.0f} s"
    row["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report = None
    if json_file.exists():
        with contextlib.suppress(ValueError):
            report = find_report(json.loads(json_file.read_text()))
    row["report"] = report
    if report is None and "error" not in row:
        row["error"] = "no report: " + " | ".join(row.get("stderr_tail", []))
    return row


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem_gib = f"{kb / 1024 / 1024:.0f}"
    osname = "?"
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip('"')
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": osname,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rustc": output(["rustc", "--version"]),
    }


# --- the table -----------------------------------------------------------------------------------


def fmt_rate(x: float) -> str:
    if x >= 100_000:
        return f"{x / 1000:,.0f} k"
    if x >= 10_000:
        return f"{x / 1000:,.1f} k"
    return f"{x:,.0f}"


def fmt_ms(us: float) -> str:
    ms = us / 1000
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 1:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def checked(report: dict[str, Any]) -> str:
    errors = report.get("errors", {}).get("total", 0)
    text = f"lost {report['lost']}, dup {report['duplicates']}, err {errors}"
    if not report.get("ok", False):
        text = "**FAILED** " + text
    if report.get("drain_timed_out"):
        text += ", drain timed out"
    return text


def markdown(result: dict[str, Any]) -> str:
    m, params = result["machine"], result["params"]
    load = "/".join(f"{x:.2f}" for x in result["load_start"])
    load_end = "/".join(f"{x:.2f}" for x in result["load_end"])
    lines = [
        f"Measured {result['date_utc']} with `{result['command']}`.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
        f"Linux {m['kernel']}, {m['rustc']}, Python {m['python']}; client and server share "
        f"it. Load average (1/5/15 min) {load} before the first run, {load_end} after the last.",
        "",
        f"Workload: {params['producers']} producers and {params['consumers']} consumers on one "
        f"queue, batches of {params['batch']} (send, receive, delete), {params['size']}-byte "
        f"bodies, {params['duration']} of sending per run; `rate` sends {params['rate']:g} msg/s "
        "in all on a fixed schedule (open loop). *Full cycle*: messages received and deleted per "
        "second. Latency in ms: *send* is a batch's round trip, *end to end* from a message's "
        "send to its receive. *Checked*: every acknowledged message received (lost), received "
        "twice (dup), failed requests (err).",
        "",
        "| system | workload | full cycle msg/s | sent msg/s | send p50 / p99 ms "
        "| end-to-end p50 / p99 ms | checked | client CPU (cores) | load 1 min | cmd |",
        "|---|---|--:|--:|--:|--:|---|--:|---|---|",
    ]
    commands: list[str] = []
    for row in result["runs"]:
        n = len(commands) + 1
        commands.append(row["command"])
        rep = row.get("report")
        load_row = f"{row['load_before'][0]:.1f} → {row['load_after'][0]:.1f}"
        head = f"| {row['peer']} | {row['workload']} "
        if rep is None:
            lines.append(
                head + f"| **no result**: {row.get('error', '?')} | | | | | | {load_row} | [{n}] |"
            )
            continue
        lat = rep["latency_us"]
        lines.append(
            head + f"| {fmt_rate(rep['receive']['msg_per_s'])} "
            f"| {fmt_rate(rep['send']['msg_per_s'])} "
            f"| {fmt_ms(lat['send']['p50'])} / {fmt_ms(lat['send']['p99'])} "
            f"| {fmt_ms(lat['end_to_end']['p50'])} / {fmt_ms(lat['end_to_end']['p99'])} "
            f"| {checked(rep)} | {rep['cpu']['cores']:.2f} | {load_row} | [{n}] |"
        )
    ratios = ratio_lines(result)
    if ratios:
        lines += ["", "sqsfast's full cycle over each peer's, same workload:", "", *ratios]
    lines += [
        "",
        "| system | version | load generator | what an acknowledged send survives "
        "| started as ($DIR: a new temporary directory) |",
        "|---|---|---|---|---|",
    ]
    servers = {r["peer"]: r for r in result["servers"]}
    versions = {r["peer"]: r["version"] for r in result["runs"]}
    durability = {r["peer"]: r.get("durability") for r in result["runs"]}
    for name in result["params"]["peers"]:
        peer = PEERS[name]
        skipped = next((s for s in result["skipped"] if s["peer"] == name), None)
        if skipped:
            lines.append(
                f"| {name} | — | {peer.client} | {peer.durability} "
                f"| **skipped**: {skipped['reason']} |"
            )
            continue
        cmd = (servers.get(name) or {}).get("server_command")
        if cmd:
            cmd = cmd.replace(str(ROOT) + "/", "")
        started = f"`{cmd}`" if cmd else "in the load generator's process"
        lines.append(
            f"| {name} | {versions.get(name, '?')} | {peer.client} "
            f"| {durability.get(name) or peer.durability} | {started} |"
        )
    lines += ["", "Commands (from the repository root, against the servers above):", ""]
    lines += [f"{i}. `{c}`" for i, c in enumerate(commands, 1)]
    return "\n".join(lines) + "\n"


def ratio_lines(result: dict[str, Any]) -> list[str]:
    """sqsfast's full-cycle rate over each peer's, per workload where both have a result."""
    rates: dict[tuple[str, str], float] = {}
    for row in result["runs"]:
        rep = row.get("report")
        if rep and rep.get("ok"):
            rates[(row["peer"], row["workload"])] = rep["receive"]["msg_per_s"]
    out = []
    # Only where producers and consumers run flat out: at a fixed rate every system that keeps
    # up has the same throughput, and the table's latencies are what differs.
    for workload in [w for w in result["params"]["workloads"] if w in ("steady", "fill-drain")]:
        for peer in ("redis", "moto", "rabbitmq", "postgresql", "elasticmq"):
            base = rates.get((peer, workload))
            if not base:
                continue
            parts = [
                f"{mine.removeprefix('sqsfast-')} {rates[(mine, workload)] / base:,.1f}×"
                for mine in SQSFAST
                if (mine, workload) in rates
            ]
            if parts:
                out.append(f"- {workload}, sqsfast over {peer}: " + ", ".join(parts))
    return out


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Run the same workloads against sqsfast and its peers; write one table.",
    )
    p.add_argument(
        "--peers",
        default=",".join(PEERS),
        help="comma-separated, from: " + ", ".join(PEERS) + " (default all)",
    )
    p.add_argument(
        "--workloads",
        default="steady,rate",
        help="comma-separated `sqsfast bench` workloads (default steady,rate)",
    )
    p.add_argument("--producers", type=int, default=4)
    p.add_argument("--consumers", type=int, default=4)
    p.add_argument("--batch", type=int, default=10, help="messages per send/receive/delete")
    p.add_argument("--size", type=int, default=256, help="bytes per message")
    p.add_argument("--duration", default="10s", help="sending time per run (default 10s)")
    p.add_argument("--rate", type=float, default=1000.0, help="msg/s in all, for `rate`")
    p.add_argument("--wait", default="1s", help="long-poll wait of a receive")
    p.add_argument("--drain-timeout", default="10s")
    p.add_argument(
        "--threads",
        type=int,
        help="threads of the load generator, for every system (default: one per core)",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="`sqsfast serve --workers`: threads serving requests (default: one per core)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=ROOT / "target" / "peers",
        help="where results.md, results.json, each run's report and the logs go "
        "(default target/peers)",
    )
    p.add_argument("--sqsfast", help="the sqsfast command (default: the one beside this Python)")
    p.add_argument(
        "--peer-bench",
        help="the sqsfast-peer-bench binary (default $CARGO_TARGET_DIR or target/release/)",
    )
    p.add_argument(
        "--build",
        action="store_true",
        help="build sqsfast-peer-bench first (cargo build --release --features peers)",
    )
    p.add_argument("--elasticmq-jar", type=Path, help="ElasticMQ's server jar (needs java)")
    p.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="print the Markdown of an earlier run's results.json; run nothing",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would run and what would be skipped; start nothing",
    )
    args = p.parse_args(argv)
    names = [n.strip() for n in args.peers.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        p.error(f"unknown peer(s) {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    args.peer_names = names
    args.workload_names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in args.workload_names:
        if w not in ("steady", "fill-drain", "rate", "long-poll"):
            p.error(f"unknown workload {w!r}: steady, fill-drain, rate or long-poll")
    for flag in ("duration", "wait", "drain_timeout"):
        try:
            parse_seconds(getattr(args, flag))
        except argparse.ArgumentTypeError as e:
            p.error(f"--{flag.replace('_', '-')}: {e}")
    return args


def build_peer_bench(args: argparse.Namespace) -> None:
    argv = ["cargo", "build", "--release", "-p", "sqsfast-bench", "--features", "peers"]
    argv += ["--bin", "sqsfast-peer-bench"]
    print("building:", shlex.join(argv), flush=True)
    subprocess.run(argv, cwd=ROOT, check=True, timeout=3600)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python benches/peers/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.render:
        print(markdown(json.loads(args.render.read_text())), end="")
        return 0
    if args.dry_run:
        for name in args.peer_names:
            peer = PEERS[name]
            reason = peer.check(args)
            if reason:
                print(f"{name}: skip: {reason}")
                continue
            print(f"{name}: {peer.client}; durability: {peer.durability}")
            for w in args.workload_names:
                print("  " + shlex.join(bench_command(args, peer, "<TARGET>", w) + ["--json", "…"]))
        return 0
    if args.build and any(PEERS[n].runner == "peer" for n in args.peer_names):
        build_peer_bench(args)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "command": command,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "params": {
            "peers": args.peer_names,
            "workloads": args.workload_names,
            "producers": args.producers,
            "consumers": args.consumers,
            "batch": args.batch,
            "size": args.size,
            "duration": args.duration,
            "rate": args.rate,
            "wait": args.wait,
        },
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "runs": [],
        "servers": [],
        "skipped": [],
    }
    for name in args.peer_names:
        peer = PEERS[name]
        reason = peer.check(args)
        if reason:
            print(f"{name}: skipped: {reason}", flush=True)
            result["skipped"].append({"peer": name, "reason": reason})
            continue
        print(f"{name}: starting", flush=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"sqsfast-peers-{name}-"))
        try:
            with peer.start(args, tmp) as started:
                if started.server_command:
                    started.server_command = started.server_command.replace(str(tmp), "$DIR")
                result["servers"].append(
                    {
                        "peer": name,
                        "server_command": started.server_command,
                        "target": started.target,
                    }
                )
                for w in args.workload_names:
                    row = run_one(args, peer, started, w, out)
                    row["version"] = started.version
                    row["durability"] = started.durability or peer.durability
                    row["server_command"] = started.server_command
                    result["runs"].append(row)
                    rep = row.get("report")
                    if rep:
                        print(
                            f"    {fmt_rate(rep['receive']['msg_per_s'])} msg/s full cycle, "
                            f"{checked(rep)}",
                            flush=True,
                        )
                    else:
                        print(f"    no result: {row.get('error')}", flush=True)
        except (Skip, OSError, subprocess.SubprocessError) as e:
            print(f"{name}: skipped: {e}", flush=True)
            result["skipped"].append({"peer": name, "reason": str(e)})
        finally:
            for log in tmp.glob("*.log"):
                with contextlib.suppress(OSError):
                    shutil.copy(log, out / f"{name}-{log.name}")
            shutil.rmtree(tmp, ignore_errors=True)
    result["load_end"] = [round(x, 2) for x in os.getloadavg()]
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (out / "results.md").write_text(table)
    print()
    print(table)
    print(f"written: {out / 'results.md'}, {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
