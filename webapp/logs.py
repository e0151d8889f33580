"""One log line per event, and never a secret in any of them (tracebacks included)."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks every known secret out of the whole text."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(FORMAT)
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """The line (and traceback) with secrets replaced by [redacted]."""
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


class _Stderr:
    """Whatever sys.stderr is at the time of writing (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def init_logging(secrets: list[str]) -> None:
    """Log to stderr at INFO through the redacting formatter, installed once per process.

    Later apps in the same process (tests) add their secrets to the same formatter."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, RedactingFormatter):
            handler.formatter.secrets = sorted(
                set(handler.formatter.secrets) | set(secrets), key=len, reverse=True
            )
            return
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(RedactingFormatter(secrets))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for noisy in ("urllib3", "werkzeug", "TeleBot"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
