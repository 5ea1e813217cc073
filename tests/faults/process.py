"""Pause and resume a subprocess (SIGSTOP / SIGCONT), as a GC pause or a
frozen VM would."""

from __future__ import annotations

import signal
import subprocess


def pause(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGSTOP)


def resume(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGCONT)
