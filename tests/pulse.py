"""A private PulseAudio server with a null sink, for tests that play or record real audio.

    from pulse import pulse_server          # session fixture: a running PulseServer, or a visible skip
    def test_x(pulse_server):
        with pulse_server.record() as rec:  # parec on the null sink's monitor
            ...play to device "pulse"...
        samples = rec.samples               # float32 mono at rec.rate

The server runs as the current user (root too: with -n and our own runtime dir PulseAudio only warns),
loads nothing but the native protocol and one null sink, and is reached through PULSE_SERVER, which
libpulse, parec/pactl and PortAudio's ALSA "pulse" device all honour.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

SINK = "assistant_test"


class PulseUnavailable(Exception):
    """PulseAudio cannot run here; tests skip with this reason."""


class PulseServer:
    """One pulseaudio process with a null sink named `sink`."""

    def __init__(self, runtime_dir: Path, sink: str = SINK):
        self.runtime_dir = Path(runtime_dir)
        self.sink = sink
        self.socket = self.runtime_dir / "native"
        self.server = f"unix:{self.socket}"
        self._proc: subprocess.Popen | None = None
        self._saved_env: dict = {}

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"

    def start(self) -> "PulseServer":
        for tool in ("pulseaudio", "pactl", "parec"):
            if not shutil.which(tool):
                raise PulseUnavailable(f"{tool} not installed (apt-get install pulseaudio pulseaudio-utils)")
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.runtime_dir, 0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime_dir), HOME=str(self.runtime_dir),
                   PULSE_RUNTIME_PATH=str(self.runtime_dir))
        env.pop("PULSE_SERVER", None)
        self._proc = subprocess.Popen(
            ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--system=false", "-n",
             "--use-pid-file=no", "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
             "-L", f"module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
             "-L", f"module-null-sink sink_name={self.sink} rate=48000 channels=2"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # bounded readiness poll, not a fixed sleep
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace").strip()
                raise PulseUnavailable(f"pulseaudio exited ({self._proc.returncode}): {err[-300:]}")
            if self.socket.exists() and self._pactl_ok("info"):
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise PulseUnavailable("pulseaudio did not answer within 15 s")
        self._pactl("set-default-sink", self.sink)
        return self

    def client_env(self) -> dict:
        return {"PULSE_SERVER": self.server, "PULSE_SINK": self.sink}

    def use_in_this_process(self) -> None:
        """Point libpulse clients of this process (PortAudio's "pulse" device) at this server."""
        for key, value in self.client_env().items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value

    def _pactl(self, *args) -> str:
        done = subprocess.run(["pactl", "--server", self.server, *args], capture_output=True, text=True, timeout=10)
        if done.returncode:
            raise PulseUnavailable(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def _pactl_ok(self, *args) -> bool:
        try:
            self._pactl(*args)
            return True
        except (PulseUnavailable, subprocess.TimeoutExpired):
            return False

    def source_outputs(self) -> int:
        return len([l for l in self._pactl("list", "short", "source-outputs").splitlines() if l.strip()])

    def record(self, rate: int = 16000) -> "Recording":
        return Recording(self, rate)

    def stop(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc is not None and proc.stderr:
            proc.stderr.close()


class Recording:
    """parec on the sink's monitor, writing raw 16-bit mono to a temp file while the block runs."""

    def __init__(self, server: PulseServer, rate: int):
        self.server, self.rate = server, rate
        self.samples = np.zeros(0, np.float32)
        self._file = None
        self._proc = None

    def __enter__(self):
        before = self.server.source_outputs()
        self._file = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            ["parec", "--server", self.server.server, "-d", self.server.monitor, "--raw", "--format=s16le",
             f"--rate={self.rate}", "--channels=1", "--latency-msec=20"],
            stdout=self._file, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while self.server.source_outputs() <= before:  # recording really started before anything plays
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise PulseUnavailable("parec did not start recording")
            time.sleep(0.02)
        return self

    def until_quiet(self, quiet_seconds: float = 0.8, timeout: float = 60.0, level: float = 0.02) -> None:
        """Wait until something has played and then `quiet_seconds` of quiet followed: a prompt has ended (a
        half-duplex assistant hears the user only after it has finished speaking)."""
        assert self._file is not None
        fd, deadline = self._file.fileno(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            size = os.fstat(fd).st_size
            x = np.abs(np.frombuffer(os.pread(fd, size - size % 2, 0), dtype="<i2").astype(np.float32)) / 32768
            loud = np.flatnonzero(x > level)
            if loud.size and x.size - loud[-1] >= quiet_seconds * self.rate:
                return
            time.sleep(0.1)
        raise AssertionError(f"nothing played and ended within {timeout} s")

    def __exit__(self, *exc):
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._file.seek(0)
        raw = self._file.read()
        self._file.close()
        self.samples = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.float32) / 32768
        return False


@pytest.fixture(scope="session")
def pulse_server():
    """A running private PulseAudio with a null sink; skips (with the reason) where it cannot run."""
    runtime = Path(tempfile.mkdtemp(prefix="pulse-test-"))
    server = PulseServer(runtime)
    try:
        server.start()
    except PulseUnavailable as exc:
        shutil.rmtree(runtime, ignore_errors=True)
        pytest.skip(f"no PulseAudio for audio tests: {exc}")
    server.use_in_this_process()
    yield server
    server.stop()
    shutil.rmtree(runtime, ignore_errors=True)


def start_room(prefix: str) -> tuple["PulseServer", Path]:
    """A private PulseAudio with the assistant's speaker sink and a 16 kHz "user_voice" sink whose monitor is the
    microphone (what the tests play there is what the assistant hears); skips, with the reason, where it cannot
    run. The caller stops the server and removes the returned folder."""
    runtime = Path(tempfile.mkdtemp(prefix=prefix))
    server = PulseServer(runtime, sink="assistant_speaker")
    try:
        server.start()
        server._pactl("load-module", "module-null-sink", "sink_name=user_voice", "rate=16000", "channels=1")
    except PulseUnavailable as exc:
        shutil.rmtree(runtime, ignore_errors=True)
        pytest.skip(f"no PulseAudio for the device tests: {exc}")
    return server, runtime
