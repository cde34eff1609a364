#!/usr/bin/env python3
"""Capture fuzz seed inputs from the real control plane into fuzz/corpus/<target>/cp-*.

    set -a; . STATE/env; set +a; tools/capture-fuzz-corpus.py

Talks to the apiserver of tools/control-plane.sh (K8S_LUA_SERVER, K8S_LUA_CA,
K8S_LUA_ADMIN_TOKEN, K8S_LUA_RESTRICTED_TOKEN) over raw HTTP/1.1 on TLS, so
that the bytes are exactly what the server wrote (chunked framing included).
Objects live in a fresh namespace that is deleted at the end. Each capture is
wrapped in the input layout of its target (see the comment at the top of
fuzz/<target>.c) and kept small (at most 16 KiB). Secrets are never written:
the kubeconfig's token and the managed fields' timestamps are replaced.
"""
import json, os, re, socket, ssl, subprocess, sys, threading, time, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.environ["K8S_LUA_SERVER"]
CA = os.environ["K8S_LUA_CA"]
TOKEN = os.environ["K8S_LUA_ADMIN_TOKEN"]
RESTRICTED = os.environ.get("K8S_LUA_RESTRICTED_TOKEN", "")
u = urllib.parse.urlparse(SERVER)
HOST, PORT = u.hostname, u.port or 443
CTX = ssl.create_default_context(cafile=CA)
NS = "fuzzcap-%d" % int(time.time())
MAX = 16384
written = []


def raw(method, path, body=None, token=TOKEN, headers=(), limit=None, timeout=15):
    """The response's bytes as the server sent them (Connection: close)."""
    s = CTX.wrap_socket(socket.create_connection((HOST, PORT), timeout=timeout), server_hostname=HOST)
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (HOST, PORT), "Connection: close",
           "Accept: application/json", "User-Agent: k8s-lua-corpus"]
    if token:
        req.append("Authorization: Bearer " + token)
    if body is not None:
        req.append("Content-Type: " + dict(headers).get("Content-Type", "application/json"))
        req.append("Content-Length: %d" % len(data))
    req += ["%s: %s" % h for h in headers if h[0] != "Content-Type"]
    s.sendall(("\r\n".join(req) + "\r\n\r\n").encode() + data)
    out = b""
    try:
        while limit is None or len(out) < limit:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ssl.SSLError):
        pass
    s.close()
    return out


def split(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs.setdefault(k.strip().lower(), v.strip())
    if hdrs.get("transfer-encoding") == "chunked":
        plain, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            plain, rest = plain + rest[:n], rest[n + 2:]
        body = plain
    return code, hdrs, body


def scrub(b):
    """No real credential or clock in a committed file."""
    b = b.replace(TOKEN.encode(), b"REDACTED-TOKEN")
    if RESTRICTED:
        b = b.replace(RESTRICTED.encode(), b"REDACTED-TOKEN")
    return re.sub(rb'"time":"[0-9TZ:-]+"', b'"time":"2026-01-01T00:00:00Z"', b)


def put(target, name, data):
    data = scrub(data)[:MAX]
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "cp-" + name), "wb") as f:
        f.write(data)
    written.append("%s/cp-%s (%d bytes)" % (target, name, len(data)))


# input layouts (the comment at the top of each fuzz/<target>.c)
def as_jsonscan(text): return b"\x31\x07" + text              # 1 selector byte, pieces up to 8 bytes
def as_watch(stream): return b"\xff\x01\x2f" + stream          # default cap, 1 selector byte
def as_lua_inc(text): return b"\x01\x10" + text                # 1 selector byte
def as_h1(resp): return b"\x40\x01\x21\x00" + resp             # pieces up to 65 bytes, cut at the start

STATUS_CODES = {200: 0, 201: 1, 400: 10, 401: 11, 403: 12, 404: 13, 405: 14, 406: 15, 409: 16, 410: 18,
                415: 19, 422: 20, 429: 21, 500: 22, 504: 25}


def as_status(code, hdrs, body, ctype_bits=1):
    warning = hdrs.get("warning", "").encode()
    retry = hdrs.get("retry-after", "").encode()
    return warning + b"\n" + retry + b"\n" + bytes([STATUS_CODES.get(code, 0) | (ctype_bits << 5)]) + body


def capture_response(name, method, path, body=None, token=TOKEN, headers=()):
    resp = raw(method, path, body, token, headers)
    code, hdrs, plain = split(resp)
    put("status", name, as_status(code, hdrs, plain))
    put("h1_response", name, as_h1(resp))
    if plain.startswith(b"{"):
        put("jsonscan", name, as_jsonscan(plain))
        put("lua_json", name, plain)
    return code, hdrs, plain


def main():
    api = "/api/v1/namespaces/" + NS
    code, _, _ = split(raw("POST", "/api/v1/namespaces", {"metadata": {"name": NS}}))
    assert code == 201, "creating namespace %s: %d" % (NS, code)
    try:
        for i in range(12):
            split(raw("POST", api + "/configmaps", {"metadata": {"name": "cm-%02d" % i, "labels": {"app": "corpus"}},
                                                     "data": {"index": str(i), "v": "x" * 64}}))
        rv = json.loads(split(raw("GET", api + "/configmaps?labelSelector=app%3Dcorpus"))[2])["metadata"]["resourceVersion"]
        # a watch from that RV while objects change: ADDED, MODIFIED, DELETED and a BOOKMARK
        box = {}
        t = threading.Thread(target=lambda: box.setdefault("w", raw(
            "GET", api + "/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=4&resourceVersion=" + rv, timeout=10)))
        t.start()
        time.sleep(0.5)
        split(raw("POST", api + "/configmaps", {"metadata": {"name": "late", "labels": {"app": "corpus"}}, "data": {"a": "1"}}))
        split(raw("PATCH", api + "/configmaps/late", {"data": {"a": "2"}}, headers=[("Content-Type", "application/merge-patch+json")]))
        split(raw("DELETE", api + "/configmaps/late"))
        t.join()
        _, _, wbody = split(box["w"])
        put("watch", "events", as_watch(wbody))
        put("h1_response", "watch", as_h1(box["w"]))
        # a watch from RV 0: the initial ADDED events
        wr = raw("GET", api + "/configmaps?watch=1&timeoutSeconds=1&resourceVersion=0&labelSelector=app%3Dcorpus")
        put("watch", "initial", as_watch(split(wr)[2]))
        # a watch ended by an ERROR event: resourceVersion in the future is 504
        # "Too large resource version" on a list; on a watch a garbage RV is 400
        # responses, Status bodies and objects
        _, _, lst = capture_response("list", "GET", api + "/configmaps?labelSelector=app%3Dcorpus")
        put("lua_json_inc", "list", as_lua_inc(lst))
        put("lua_json_inc", "list-cut", as_lua_inc(lst[: len(lst) * 2 // 3]))
        put("jsonscan", "list-cut", as_jsonscan(lst[: len(lst) // 2]))
        capture_response("get", "GET", api + "/configmaps/cm-01")
        capture_response("get-ns", "GET", "/api/v1/namespaces/" + NS)
        capture_response("warning-deprecated", "GET", "/api/v1/componentstatuses")
        capture_response("404", "GET", api + "/configmaps/missing")
        capture_response("409", "POST", api + "/configmaps", {"metadata": {"name": "cm-01"}})
        capture_response("422", "POST", api + "/configmaps", {"metadata": {"name": "Not_Valid"}})
        capture_response("400", "GET", api + "/configmaps?fieldSelector=nope%3D%3D%3D")
        capture_response("401", "GET", api + "/configmaps", token="not-a-token")
        if RESTRICTED:
            capture_response("403", "GET", api + "/secrets", token=RESTRICTED)
        capture_response("415", "PATCH", api + "/configmaps/cm-01", {"data": {}}, headers=[("Content-Type", "text/plain")])
        capture_response("504-too-large-rv", "GET", api + "/configmaps?resourceVersion=999999999&resourceVersionMatch=NotOlderThan")
        capture_response("410-continue", "GET", api + "/configmaps?limit=1&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJhIn0")
        capture_response("discovery", "GET", "/api/v1")
        # ExecCredentials as the test plugin prints them (a made-up token)
        plugin = os.path.join(ROOT, "spec", "plugins", "exec_plugin.lua")
        env = dict(os.environ, PLUGIN_TOKEN="fuzz-token-0123456789", KUBERNETES_EXEC_INFO=json.dumps(
            {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "spec": {"interactive": False}}))
        for mode in ("token", "expiring", "echoinfo", "leakyjson", "wrongversion"):
            out = subprocess.run(["lua5.4", plugin, mode], env=env, capture_output=True, timeout=10).stdout
            if out.strip():
                put("exec_credential", "plugin-" + mode, out)
        # the control plane's kubeconfig, token redacted
        state = os.environ.get("K8S_LUA_STATE")
        if state and os.path.exists(os.path.join(state, "kubeconfig")):
            kc = open(os.path.join(state, "kubeconfig"), "rb").read()
            kc = re.sub(rb"(certificate-authority|client-certificate|client-key): .*", rb"\1: /nonexistent/file", kc)
            put("kubeconfig", "control-plane", kc)
            put("kubeconfig_persist", "control-plane", kc)
    finally:
        raw("DELETE", "/api/v1/namespaces/" + NS)
    for w in written:
        print("captured", w)


if __name__ == "__main__":
    main()
