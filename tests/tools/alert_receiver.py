#!/usr/bin/env python3
"""alert_receiver.py — local stand-ins for Slack, PagerDuty and an SMTP server, for the
alert delivery tests. Listens on 127.0.0.1 ephemeral ports only.

  alert_receiver.py --port-file FILE --log FILE [--http-status N] [--smtp-reply N]

HTTP: every POST is answered with --http-status (default 200; PagerDuty paths /v2/* get
202 when the status is 200, as the real API does) and appended to the log as one JSON
line {"kind": "http", "path", "content_type", "body"}. SMTP: a minimal server (EHLO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT); each accepted message is logged as {"kind": "smtp",
"from", "to", "data"}; --smtp-reply N answers DATA's end with N instead of 250.
Control: POST /_ctl?http_status=N&pd_status=N&smtp_reply=N&hang=0|1 changes behaviour at
run time (pd_status: the answer to /v2/* alone, 0 = as http_status; hang=1 holds every
later HTTP request without answering until hang=0 or exit). The SMTP server advertises
AUTH PLAIN but no STARTTLS: each AUTH command is logged as {"kind": "smtp_auth"}
(a login sent in clear) and accepted.
The port file gets "HTTP_PORT SMTP_PORT" once both listen. SIGTERM stops.
"""
import argparse
import json
import os
import signal
import socketserver
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"http_status": 200, "pd_status": 0, "smtp_reply": 250, "hang": False}
lock = threading.Lock()
unhang = threading.Event()
unhang.set()
log_path = None


def log(entry):
    with lock:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()


class HTTPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, body=b"ok"):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urllib.parse.urlparse(self.path)
        if u.path == "/_ctl":
            q = urllib.parse.parse_qs(u.query)
            with lock:
                if "http_status" in q:
                    state["http_status"] = int(q["http_status"][0])
                if "pd_status" in q:
                    state["pd_status"] = int(q["pd_status"][0])
                if "smtp_reply" in q:
                    state["smtp_reply"] = int(q["smtp_reply"][0])
                if "hang" in q:
                    state["hang"] = q["hang"][0] == "1"
                    if state["hang"]:
                        unhang.clear()
                    else:
                        unhang.set()
            self.reply(200, json.dumps(state).encode())
            return
        if state["hang"]:
            log({"kind": "http_hang", "path": u.path})
            unhang.wait()
            self.close_connection = True
            return
        log({"kind": "http", "path": u.path,
             "content_type": self.headers.get("Content-Type", ""),
             "body": body.decode("utf-8", "replace")})
        status = state["http_status"]
        if u.path.startswith("/v2/") and state["pd_status"]:
            status = state["pd_status"]
        if status == 200 and u.path.startswith("/v2/"):
            self.reply(202, b'{"status":"success","message":"Event processed"}')
        else:
            self.reply(status)


class SMTPHandler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        self.send("220 localhost test SMTP sink")
        sender, rcpts = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            cmd = line[:4].upper()
            if cmd == "EHLO":
                self.send("250-localhost")
                self.send("250 AUTH PLAIN")
            elif cmd == "HELO":
                self.send("250 localhost")
            elif cmd == "AUTH":
                log({"kind": "smtp_auth", "line": line[:10]})
                if len(line.split()) < 3:  # no initial response: ask for it
                    self.send("334 ")
                    if not self.rfile.readline():
                        return
                self.send("235 2.7.0 Authentication successful")
            elif cmd == "MAIL":
                sender, rcpts = line[10:].strip(), []
                self.send("250 OK")
            elif cmd == "RCPT":
                rcpts.append(line[8:].strip())
                self.send("250 OK")
            elif cmd == "DATA":
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    d = self.rfile.readline()
                    if not d:
                        return
                    d = d.decode("utf-8", "replace")
                    if d in (".\r\n", ".\n"):
                        break
                    data.append(d[1:] if d.startswith("..") else d)
                reply = state["smtp_reply"]
                if reply == 250:
                    log({"kind": "smtp", "from": sender, "to": rcpts, "data": "".join(data)})
                    self.send("250 OK queued")
                else:
                    log({"kind": "smtp_rejected", "from": sender})
                    self.send("%d rejected by the test" % reply)
            elif cmd == "RSET":
                sender, rcpts = None, []
                self.send("250 OK")
            elif cmd == "NOOP":
                self.send("250 OK")
            elif cmd == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 not implemented")


class SMTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global log_path
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--http-status", type=int, default=200)
    p.add_argument("--smtp-reply", type=int, default=250)
    a = p.parse_args()
    log_path = a.log
    state["http_status"] = a.http_status
    state["smtp_reply"] = a.smtp_reply
    open(log_path, "a").close()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), HTTPHandler)
    httpd.daemon_threads = True
    smtpd = SMTPServer(("127.0.0.1", 0), SMTPHandler)
    for srv in (httpd, smtpd):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (httpd.server_address[1], smtpd.server_address[1]))
    os.rename(tmp, a.port_file)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(1):
        pass
    unhang.set()
    sys.exit(0)


if __name__ == "__main__":
    main()
