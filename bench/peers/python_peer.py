"""The official Python client (`kubernetes` from PyPI) as a benchmark peer.

    python bench/peers/python_peer.py get|list|pager|watch

Run with the virtualenv's interpreter made by bench/setup.sh. Environment as
the other peers (see bench/run.lua). Objects are deserialized into the
client's model classes (V1ConfigMap ...), its default. CPU from
getrusage(RUSAGE_SELF), peak RSS from ru_maxrss. Prints one JSON line.
"""
import json
import os
import resource
import sys
import time

from kubernetes import client, watch

STAMP = "bench.k8s-lua.io/t"


def env(k, d=None):
    v = os.environ.get(k)
    return v if v else d


def fail(msg):
    sys.stderr.write("python peer: %s\n" % msg)
    print(json.dumps({"ok": False, "error": str(msg)}))
    sys.exit(1)


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime


def vmrss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    wl = sys.argv[1] if len(sys.argv) > 1 else ""
    cfg = client.Configuration()
    cfg.host = env("BENCH_SERVER")
    cfg.ssl_ca_cert = env("BENCH_CA")
    if env("BENCH_TOKEN"):
        cfg.api_key = {"authorization": "Bearer " + env("BENCH_TOKEN")}
    cfg.cert_file = env("BENCH_CERT")
    cfg.key_file = env("BENCH_KEY")
    api = client.CoreV1Api(client.ApiClient(cfg))
    ns = env("BENCH_NS", "default")
    out = {"ok": True}

    if wl == "get":
        name = env("BENCH_NAME")
        n = int(env("BENCH_N", "1000"))
        for _ in range(int(env("BENCH_WARMUP", "20"))):
            api.read_namespaced_config_map(name, ns)
        u0, s0 = cpu()
        t0 = time.monotonic()
        for _ in range(n):
            cm = api.read_namespaced_config_map(name, ns)
            if cm.metadata.name != name:
                fail("wrong object")
        t1 = time.monotonic()
        u1, s1 = cpu()
        out.update(n=n, wall=t1 - t0, user=u1 - u0, sys=s1 - s0)

    elif wl in ("list", "pager"):
        api.list_namespaced_config_map(ns, limit=1)  # warm the connection
        rss0 = vmrss()
        u0, s0 = cpu()
        t0 = time.monotonic()
        if wl == "list":
            items = api.list_namespaced_config_map(ns).items
        else:
            items, cont, page = [], None, int(env("BENCH_PAGE", "500"))
            while True:
                if cont:
                    lst = api.list_namespaced_config_map(ns, limit=page, _continue=cont)
                else:
                    lst = api.list_namespaced_config_map(ns, limit=page)
                items.extend(lst.items)
                cont = lst.metadata._continue
                if not cont:
                    break
        t1 = time.monotonic()
        u1, s1 = cpu()
        if items and not items[0].metadata.name:
            fail("empty object")
        out.update(n=1, items=len(items), wall=t1 - t0, user=u1 - u0, sys=s1 - s0,
                   rss0_kb=rss0, maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    elif wl == "watch":
        want_added = int(env("BENCH_WATCH_ADDED", "0"))
        want_mod = int(env("BENCH_WATCH_MODIFIED", "0"))
        ready = env("BENCH_READY_FILE")
        api.list_namespaced_config_map(ns, limit=1)
        u0, s0 = cpu()
        t0 = time.monotonic()
        added = mod = events = 0
        delays = []
        w = watch.Watch()
        # no resource_version: synthetic ADDED for every object, then changes
        for ev in w.stream(api.list_namespaced_config_map, ns, timeout_seconds=600):
            now_us = time.time_ns() // 1000
            events += 1
            t = ev["type"]
            if t == "ADDED":
                added += 1
                if added == want_added:
                    au, as_ = cpu()
                    out.update(added_wall=time.monotonic() - t0, added_user=au - u0, added_sys=as_ - s0)
                    if ready:
                        open(ready, "w").close()
            elif t == "MODIFIED" and added >= want_added:
                a = ev["object"].metadata.annotations or {}
                if STAMP in a:
                    mod += 1
                    delays.append((now_us - int(a[STAMP])) / 1e6)
            elif t == "ERROR":
                fail("ERROR event")
            if added >= want_added and mod >= want_mod:
                break
        t1 = time.monotonic()
        u1, s1 = cpu()
        w.stop()
        if added < want_added or mod < want_mod:
            fail("watch ended early: %d ADDED, %d MODIFIED" % (added, mod))
        out.update(n=events, events=events, wall=t1 - t0, user=u1 - u0, sys=s1 - s0, delays=delays)
    else:
        fail("usage: python_peer.py get|list|pager|watch")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
