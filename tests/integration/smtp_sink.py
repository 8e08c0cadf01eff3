"""A real SMTP server for the email tests (aiosmtpd): each message received is recorded (its Message-ID, one line)
before the server answers; while the `hold` file exists the answer comes only after 120 s, as from a server that
accepted the data and then went quiet."""

from __future__ import annotations

import asyncio
import email
import sys
from pathlib import Path

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, out: Path, hold: Path):
        self.out = out
        self.hold = hold

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content)
        with self.out.open("a") as f:
            f.write(f"{message['Message-ID']} {','.join(envelope.rcpt_tos)}\n")
        if self.hold.exists():
            await asyncio.sleep(120)
        return "250 Message accepted for delivery"


def main() -> None:
    port, out, hold = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    controller = Controller(Recorder(out, hold), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
