#!/usr/bin/python3
"""A real SMTP server (Debian's python3-aiosmtpd) that keeps each message it accepts as a
file: the notifier's tests use it, and so can you, to see the mails `helpdesk dev --smtp` sends.

  /usr/bin/python3 scripts/smtp-sink.py --dir /tmp/mails [--port 2525]
      [--auth USER:PASSWORD] [--tls-cert CERT --tls-key KEY]

Prints `READY <port>` once it listens. Recipients whose local part starts with `reject` are
refused with 550, `defer` with 451, and messages to `spam` refused after their data with 554
(for the tests' failure paths). Each accepted message is
`<n>.eml` in --dir, headed by `X-Envelope-From:` and `X-Envelope-To:` lines.
"""
import argparse
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: no such mailbox" % address
        if local.startswith("defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(to.split("@")[0].lower().startswith("spam") for to in envelope.rcpt_tos):
            return "554 5.7.1 message refused as spam"
        with self.lock:
            self.count += 1
            number = self.count
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos))
        content = envelope.original_content or envelope.content
        path = os.path.join(self.directory, "%06d.eml" % number)
        with open(path + ".part", "wb") as out:
            out.write(head.encode() + content)
        os.rename(path + ".part", path)
        return "250 2.0.0 accepted as %d" % number


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth", help="USER:PASSWORD required to send")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password
            # handled=False: aiosmtpd itself answers a refusal (535); True would leave the client waiting.
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.tls_cert))
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("READY %d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.2):
        pass
    controller.stop()


if __name__ == "__main__":
    sys.exit(main())
