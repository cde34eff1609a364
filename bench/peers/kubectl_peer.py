"""kubectl as automation scripts use it: one kubectl process per operation.

    python3 bench/peers/kubectl_peer.py get|list|pager|watch|apply

Standard library only (Debian's python3). Environment as the other peers plus
BENCH_KUBECTL (the binary) and BENCH_KUBECONFIG. Every figure is kubectl's
own: wall time from spawn to exit, CPU (user+sys) and peak RSS from
os.wait4() of that kubectl process. Output is -o json, read from a pipe; the
driver's own parsing is not counted. kubectl's discovery cache (--cache-dir,
private to the run) is warmed before timing, as on a workstation or CI runner
that has run kubectl before.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

STAMP = "bench.k8s-lua.io/t"


def env(k, d=None):
    v = os.environ.get(k)
    return v if v else d


def fail(msg):
    sys.stderr.write("kubectl peer: %s\n" % msg)
    print(json.dumps({"ok": False, "error": str(msg)}))
    sys.exit(1)


KUBECTL = env("BENCH_KUBECTL", "kubectl")
BASE = [KUBECTL, "--kubeconfig", env("BENCH_KUBECONFIG", ""), "--cache-dir", env("BENCH_KUBECTL_CACHE", "/tmp/k8s-lua-bench-kubectl-cache"),
        "-n", env("BENCH_NS", "default")]


def run(args):
    """Run one kubectl; return (stdout bytes, wall, user, sys, maxrss_kb)."""
    with tempfile.TemporaryFile() as errf:
        t0 = time.monotonic()
        p = subprocess.Popen(BASE + args, stdout=subprocess.PIPE, stderr=errf)
        out = p.stdout.read()  # until kubectl closes stdout (exits)
        _, status, ru = os.wait4(p.pid, 0)  # this kubectl's own rusage
        t1 = time.monotonic()
        p.stdout.close()
        p.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errf.seek(0)
            fail("kubectl %s: exit %d: %s" % (" ".join(args), code, errf.read().decode(errors="replace").strip()))
    return out, t1 - t0, ru.ru_utime, ru.ru_stime, ru.ru_maxrss


def main():
    wl = sys.argv[1] if len(sys.argv) > 1 else ""
    out = {"ok": True}
    if wl == "get":
        name = env("BENCH_NAME")
        n = int(env("BENCH_KUBECTL_N", env("BENCH_N", "100")))
        get = ["get", "configmap", name, "-o", "json"]
        for _ in range(2):  # warm the discovery cache
            run(get)
        wall = user = sys_ = 0.0
        for _ in range(n):
            body, w, u, s, _ = run(get)
            wall += w; user += u; sys_ += s
            if json.loads(body)["metadata"]["name"] != name:
                fail("wrong object")
        out.update(n=n, wall=wall, user=user, sys=sys_)
    elif wl in ("list", "pager"):
        run(["get", "configmap", env("BENCH_NAME"), "-o", "name"])  # warm the discovery cache
        chunk = "0" if wl == "list" else env("BENCH_PAGE", "500")
        body, w, u, s, rss = run(["get", "configmaps", "--chunk-size=" + chunk, "-o", "json"])
        items = json.loads(body)["items"]
        out.update(n=1, items=len(items), wall=w, user=u, sys=s, maxrss_kb=rss)
    elif wl == "watch":
        want_added = int(env("BENCH_WATCH_ADDED", "0"))
        want_mod = int(env("BENCH_WATCH_MODIFIED", "0"))
        ready = env("BENCH_READY_FILE")
        run(["get", "configmap", env("BENCH_NAME"), "-o", "name"])
        # kubectl get -w lists (in chunks of 500) and prints the items as ADDED events, then watches
        t0 = time.monotonic()
        p = subprocess.Popen(BASE + ["get", "configmaps", "--watch", "--output-watch-events", "-o", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        dec = json.JSONDecoder()
        buf = ""
        added = mod = events = 0
        delays = []
        fd = p.stdout.fileno()
        while added < want_added or mod < want_mod:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            now_us = time.time_ns() // 1000
            buf += chunk.decode()
            while True:
                s = buf.lstrip()
                if not s:
                    buf = ""
                    break
                try:
                    ev, end = dec.raw_decode(s)
                except ValueError:
                    buf = s
                    break
                buf = s[end:]
                t = ev.get("type")
                # the initial state comes as one ADDED "event" per list chunk, holding a List
                k = len(ev["object"].get("items") or []) if "items" in ev.get("object", {}) else 1
                events += k
                if t == "ADDED":
                    before = added
                    added += k
                    if before < want_added <= added:
                        out.update(added_wall=time.monotonic() - t0)
                        if ready:
                            open(ready, "w").close()
                elif t == "MODIFIED" and added >= want_added:
                    a = ev["object"]["metadata"].get("annotations") or {}
                    if STAMP in a:
                        mod += 1
                        delays.append((now_us - int(a[STAMP])) / 1e6)
        t1 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        _, _, ru = os.wait4(p.pid, 0)
        p.returncode = 0
        if added < want_added or mod < want_mod:
            fail("watch ended early: %d ADDED, %d MODIFIED" % (added, mod))
        # CPU includes kubectl's start-up and its initial LIST: that is what a script pays
        out.update(n=events, events=events, wall=t1 - t0, user=ru.ru_utime, sys=ru.ru_stime, delays=delays)
    elif wl == "apply":
        # kubectl apply --server-side -f DIR into the fresh namespace BENCH_NS
        # (-n, from BASE): one process, start-up included, discovery cache warm
        want = int(env("BENCH_APPLY_N", "0"))
        run(["get", "configmaps", "-o", "name"])  # warm the discovery cache (the namespace is empty)
        body, w, u, s, rss = run(["apply", "--server-side", "-f", env("BENCH_APPLY_DIR")])
        applied = sum(1 for line in body.decode().splitlines() if line.endswith(" serverside-applied"))
        if applied != want:
            fail("applied %d of %d objects" % (applied, want))
        out.update(n=applied, wall=w, user=u, sys=s, maxrss_kb=rss)
    else:
        fail("usage: kubectl_peer.py get|list|pager|watch|apply")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
