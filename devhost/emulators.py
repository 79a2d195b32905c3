"""Starting and stopping the local emulators: Azurite (storage) and cosmosdb-server (Cosmos DB).

Both are npm packages pinned in ``devhost/package.json`` and run as child processes of whoever
starts them (``make run`` or the test session); their output goes to log files.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DEVHOST_DIR = Path(__file__).resolve().parent
NODE_BIN = DEVHOST_DIR / "node_modules" / ".bin"

# The well-known development credentials of both emulators; they are public and grant nothing.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
COSMOS_EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child when its parent dies, so no emulator outlives its owner."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmulatorError(RuntimeError):
    """An emulator is not installed, its port is taken, or it did not start."""


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on the port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


@dataclass(frozen=True)
class Ports:
    """Where the emulators listen."""

    blob: int = 10000
    queue: int = 10001
    table: int = 10002
    cosmos: int = 8081

    @classmethod
    def free(cls) -> "Ports":
        """Ports picked at random, for a stack that must not disturb a running one."""
        return cls(blob=free_port(), queue=free_port(), table=free_port(), cosmos=free_port())

    @property
    def storage_connection(self) -> str:
        """The ``AzureWebJobsStorage`` connection string for this Azurite."""
        base = f"http://127.0.0.1:{{}}/{AZURITE_ACCOUNT}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={base.format(self.blob)};QueueEndpoint={base.format(self.queue)};"
            f"TableEndpoint={base.format(self.table)};"
        )

    @property
    def cosmos_endpoint(self) -> str:
        """The Cosmos DB endpoint of this cosmosdb-server."""
        return f"http://127.0.0.1:{self.cosmos}"

    def settings(self) -> dict[str, str]:
        """The app settings that point the function app at these emulators."""
        return {
            "AzureWebJobsStorage": self.storage_connection,
            "COSMOS_ENDPOINT": self.cosmos_endpoint,
            "COSMOS_KEY": COSMOS_EMULATOR_KEY,
            "COSMOS_ENDPOINT_DISCOVERY": "false",
        }


class Emulators:
    """The running emulator processes; a context manager that stops them on exit."""

    def __init__(self, ports: Ports, log_dir: Path, *, cosmos_data: Path | None = None) -> None:
        """``cosmos_data``: a file Cosmos DB saves its state to on stop and loads on start."""
        self.ports = ports
        self._log_dir = log_dir
        self._cosmos_data = cosmos_data
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> "Emulators":
        if not self._processes:  # may have been started already, to retry on a port race
            self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def commands(self) -> dict[str, list[str]]:
        """The command line of each emulator."""
        p = self.ports
        azurite = [
            str(NODE_BIN / "azurite"),
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
            "--blobPort",
            str(p.blob),
            "--queuePort",
            str(p.queue),
            "--tablePort",
            str(p.table),
            # Cosmos DB's emulator keeps data in memory only; queues do too, so the two agree.
            "--inMemoryPersistence",
        ]
        cosmos = ["node", str(DEVHOST_DIR / "cosmos" / "server.js"), "--port", str(p.cosmos)]
        if self._cosmos_data is not None:
            cosmos += ["--data", str(self._cosmos_data)]
        return {"azurite": azurite, "cosmos": cosmos}

    def start(self, timeout: float = 30.0) -> None:
        """Start both emulators and wait until they accept connections."""
        if not (NODE_BIN / "azurite").exists():
            raise EmulatorError("emulators are not installed: run `make deps` (npm ci in devhost/)")
        taken = [port for port in (self.ports.queue, self.ports.cosmos) if port_open(port)]
        if taken:
            raise EmulatorError(f"port(s) {taken} already in use: is another stack running?")
        self._log_dir.mkdir(parents=True, exist_ok=True)
        for name, command in self.commands().items():
            self._spawn(name, command)
        self._wait_ready(timeout)

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self._log_dir / f"{name}.log").open("ab") as log_file:  # the child keeps a copy
            self._processes[name] = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def restart_cosmos(self, *, down_for: float = 0.0, timeout: float = 30.0) -> None:
        """Stop Cosmos DB gracefully, stay down ``down_for`` seconds, start it again (tests)."""
        _terminate([self._processes.pop("cosmos")])
        time.sleep(down_for)
        self._spawn("cosmos", self.commands()["cosmos"])
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ports = (self.ports.blob, self.ports.queue, self.ports.table, self.ports.cosmos)
        while not all(port_open(port) for port in ports):
            dead = [name for name, p in self._processes.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                self.stop()
                why = f"exited: {dead}" if dead else f"not ready after {timeout:.0f}s"
                raise EmulatorError(f"emulators {why}; see {self._log_dir}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop every emulator this object started."""
        _terminate(list(self._processes.values()))
        self._processes.clear()


def _terminate(processes: list["subprocess.Popen[bytes]"]) -> None:
    """SIGTERM each process group, then SIGKILL whatever is still there after 5 s."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
