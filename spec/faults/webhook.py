"""A validating admission webhook for spec/faults (fault matrix row 14).

Usage: webhook.py CERT KEY LOGFILE RELEASEFILE
Prints "port N" once it listens on 127.0.0.1. Every AdmissionReview it gets
is logged as "<k8s-lua-webhook label> <namespace>/<name>" to LOGFILE; a
request whose object has the label k8s-lua-webhook=hold is answered only
once RELEASEFILE exists (or after 25 s, under the API server's 30 s
timeoutSeconds), which keeps that request in flight in the API server. Every
request is allowed.
"""
import http.server
import json
import os
import socketserver
import ssl
import sys
import time

CERT, KEY, LOG, RELEASE = sys.argv[1:5]


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        review = json.loads(body)
        req = review.get("request") or {}
        obj = req.get("object") or {}
        md = obj.get("metadata") or {}
        label = (md.get("labels") or {}).get("k8s-lua-webhook", "-")
        log("%s %s/%s" % (label, req.get("namespace", ""), md.get("name") or md.get("generateName", "")))
        if label == "hold":
            deadline = time.time() + 25
            while not os.path.exists(RELEASE) and time.time() < deadline:
                time.sleep(0.05)
            log("released %s/%s" % (req.get("namespace", ""), md.get("name", "")))
        out = json.dumps({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": req.get("uid", ""), "allowed": True},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("port %d" % srv.server_address[1], flush=True)
srv.serve_forever()
