#!/usr/bin/env python3
"""Capture fuzz seed inputs from the real control plane into fuzz/corpus/<target>/cp-*.

    set -a; . STATE/env; set +a; tools/capture-fuzz-corpus.py [TARGET...]

With TARGET names (e.g. proto lua_proto) only those targets' seeds are written.
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
ONLY = set(sys.argv[1:])


def raw(method, path, body=None, token=TOKEN, headers=(), limit=None, timeout=15, accept="application/json"):
    """The response's bytes as the server sent them (Connection: close)."""
    s = CTX.wrap_socket(socket.create_connection((HOST, PORT), timeout=timeout), server_hostname=HOST)
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (HOST, PORT), "Connection: close",
           "Accept: " + accept, "User-Agent: k8s-lua-corpus"]
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
    if ONLY and target not in ONLY:
        return
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
def as_pb_body(body): return b"\x00" + body                       # mode 0 (body); lua_proto: a body too
def as_pb_event(ev): return b"\x01" + ev                          # mode 1 (one WatchEvent)
def as_pb_stream(stream): return b"\x02\x80" + stream             # mode 2, cut in the middle


PB = "application/vnd.kubernetes.protobuf"
# a CRD whose schema has the JSONSchemaProps forms protobuf carries specially
# (JSON raw values, OrBool, OrArray, *float64); no numeric default or enum
# value yet: the JSON sink rejects a bare number as raw JSON (fuzz/regress/lua_proto)
CRD = {"metadata": {"name": "%ss.fuzzcap.k8s-lua.io" % NS.replace("-", "")},
       "spec": {"group": "fuzzcap.k8s-lua.io", "scope": "Namespaced",
                "names": {"plural": NS.replace("-", "") + "s", "kind": "Fuzzcap", "listKind": "FuzzcapList"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "additionalPrinterColumns": [{"name": "Size", "type": "string", "jsonPath": ".spec.size"}],
                              "schema": {"openAPIV3Schema": {
                                  "type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                  "properties": {"spec": {"type": "object", "required": ["mode"], "properties": {
                                      "mode": {"type": "string", "enum": ["a", "b"], "default": "a",
                                               "x-kubernetes-validations": [{"rule": "self != 'c'"}]},
                                      "ratio": {"type": "number", "maximum": 1.5, "minimum": 0.25},
                                      "port": {"x-kubernetes-int-or-string": True},
                                      "tags": {"type": "array", "items": {"type": "string"}, "default": ["x"]},
                                      "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                      "extra": {"type": "object", "additionalProperties": False}}}}}}}]}}


def capture_protobuf(name, path):
    """A protobuf body, as fuzz/proto.c and fuzz/lua_proto.c take it."""
    _, hdrs, body = split(raw("GET", path, accept=PB))
    assert body.startswith(b"k8s\0"), "%s: not protobuf (%s)" % (path, hdrs.get("content-type"))
    if len(body) <= MAX:
        put("proto", "pb-" + name, as_pb_body(body))
        put("lua_proto", "pb-" + name, as_pb_body(body))


def capture_protobuf_watch(name, path):
    """A protobuf watch stream, and its first event on its own."""
    _, _, stream = split(raw("GET", path, accept=PB + ";stream=watch", timeout=10))
    assert stream[:1] == b"\0", "%s: not a protobuf stream" % path
    put("proto", "pb-" + name, as_pb_stream(stream))
    if len(stream) >= 4:
        ev = stream[4:4 + int.from_bytes(stream[:4], "big")]
        put("proto", "pb-%s-event" % name, as_pb_event(ev))
        put("lua_proto", "pb-%s-event" % name, as_pb_event(ev))


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
        # protobuf: a List, objects, a Status error, a watch stream
        capture_protobuf("list", api + "/configmaps?labelSelector=app%3Dcorpus&limit=3")
        capture_protobuf("get", api + "/configmaps/cm-01")
        capture_protobuf("get-ns", "/api/v1/namespaces/" + NS)
        capture_protobuf("get-svc", "/api/v1/namespaces/default/services/kubernetes")
        capture_protobuf("404", api + "/configmaps/missing")
        capture_protobuf("410-continue", api + "/configmaps?limit=1&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJhIn0")
        split(raw("POST", "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % NS, {
            "metadata": {"name": "lock"}, "spec": {"holderIdentity": "corpus", "leaseDurationSeconds": 15,
                                                   "renewTime": "2026-01-01T00:00:00.123456Z", "leaseTransitions": 0}}))
        capture_protobuf("get-lease", "/apis/coordination.k8s.io/v1/namespaces/%s/leases/lock" % NS)
        code, _, _ = split(raw("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD))
        if code == 201:
            capture_protobuf("get-crd", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + CRD["metadata"]["name"])
        capture_protobuf("list-priorityclasses", "/apis/scheduling.k8s.io/v1/priorityclasses")
        capture_protobuf_watch("watch", api + "/configmaps?watch=1&timeoutSeconds=1&resourceVersion=0&labelSelector=app%3Dcorpus")
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
        raw("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + CRD["metadata"]["name"])
        raw("DELETE", "/api/v1/namespaces/" + NS)
    for w in written:
        print("captured", w)


if __name__ == "__main__":
    main()
