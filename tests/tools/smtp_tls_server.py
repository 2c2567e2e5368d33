#!/usr/bin/python3
"""smtp_tls_server.py — an SMTP server on 127.0.0.1 that offers STARTTLS and requires it
(aiosmtpd; run it with the system Python, which has the Debian package), for the alert
e-mail TLS test. AUTH (any login) is accepted only after STARTTLS.

  smtp_tls_server.py --port-file FILE --log FILE --cert PEM --key PEM

Each accepted message is logged as one JSON line {"kind": "smtp", "tls": bool, "auth":
login or null, "from", "to", "data"}. The port file gets "PORT" once it listens.
SIGTERM stops.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, log_path):
        self.log_path = log_path

    async def handle_DATA(self, server, session, envelope):
        entry = {"kind": "smtp", "tls": session.ssl is not None,
                 "auth": session.auth_data.login.decode() if session.auth_data else None,
                 "from": envelope.mail_from, "to": envelope.rcpt_tos,
                 "data": envelope.content.decode("utf-8", "replace")}
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return "250 OK queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, auth_data=auth_data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    a = p.parse_args()
    open(a.log, "a").close()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ctl = Controller(Handler(a.log), hostname="127.0.0.1", port=port, tls_context=ctx,
                     require_starttls=True, authenticator=authenticator,
                     auth_require_tls=True)
    ctl.start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.port_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(1):
        pass
    ctl.stop()


if __name__ == "__main__":
    main()
