// client-go peer for the k8s-lua benchmark (bench/run.lua drives it).
//
//   clientgo WORKLOAD        WORKLOAD: get | list | pager | watch | informer
//
// Environment (set by bench/run.lua): BENCH_SERVER, BENCH_CA, BENCH_TOKEN or
// BENCH_CERT+BENCH_KEY, BENCH_NS, BENCH_NAME, BENCH_N, BENCH_WARMUP,
// BENCH_PAGE, BENCH_WATCH_ADDED, BENCH_WATCH_MODIFIED, BENCH_READY_FILE,
// BENCH_INF_UPDATES, BENCH_READY_TIMEOUT,
// BENCH_PROTOBUF=1 for application/vnd.kubernetes.protobuf.
// The informer's sync path follows client-go's WatchListClient feature gate
// (on by default in v0.35; KUBE_FEATURE_WatchListClient=false turns it off).
// Prints one JSON object on stdout. CPU comes from getrusage(RUSAGE_SELF)
// (all threads, GC included), peak RSS from ru_maxrss.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/pager"
)

const stampAnnotation = "bench.k8s-lua.io/t"

func env(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func envInt(k string, d int) int {
	v, err := strconv.Atoi(env(k, strconv.Itoa(d)))
	if err != nil {
		return d
	}
	return v
}

type usage struct{ user, sys float64 }

func rusage() usage {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return usage{float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6, float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6}
}

func maxRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}

func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

// counts the informer's requests by kind, to report the sync path it took
type countingRT struct {
	next                       http.RoundTripper
	lists, watches, watchLists *atomic.Int64
}

func (c countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	switch {
	case q.Get("sendInitialEvents") == "true":
		c.watchLists.Add(1)
	case q.Get("watch") == "true" || q.Get("watch") == "1":
		c.watches.Add(1)
	default:
		c.lists.Add(1)
	}
	return c.next.RoundTrip(r)
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "clientgo: "+format+"\n", a...)
	out := map[string]interface{}{"ok": false, "error": fmt.Sprintf(format, a...)}
	json.NewEncoder(os.Stdout).Encode(out)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: clientgo get|list|pager|watch")
	}
	cfg := &rest.Config{
		Host:            env("BENCH_SERVER", ""),
		BearerToken:     env("BENCH_TOKEN", ""),
		TLSClientConfig: rest.TLSClientConfig{CAFile: env("BENCH_CA", ""), CertFile: env("BENCH_CERT", ""), KeyFile: env("BENCH_KEY", "")},
		QPS:             -1, // no client-side rate limiter (not throttled)
		Burst:           -1,
	}
	// Since v0.35 the typed clients of built-in types ask for protobuf when
	// ContentType is unset (gentype.PrefersProtobuf). The JSON peer sets JSON
	// explicitly, so that it speaks what this library speaks; the protobuf
	// peer is client-go's own default for these types.
	if env("BENCH_PROTOBUF", "") == "1" {
		cfg.ContentType = runtime.ContentTypeProtobuf
		cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	} else {
		cfg.ContentType = runtime.ContentTypeJSON
		cfg.AcceptContentTypes = runtime.ContentTypeJSON
	}
	var lists, watches, watchLists atomic.Int64
	if os.Args[1] == "informer" {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return countingRT{rt, &lists, &watches, &watchLists}
		})
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fail("NewForConfig: %v", err)
	}
	ns := env("BENCH_NS", "default")
	cms := cs.CoreV1().ConfigMaps(ns)
	ctx := context.Background()
	out := map[string]interface{}{"ok": true}

	switch os.Args[1] {
	case "get":
		name := env("BENCH_NAME", "")
		n := envInt("BENCH_N", 1000)
		for i := 0; i < envInt("BENCH_WARMUP", 20); i++ {
			if _, err := cms.Get(ctx, name, metav1.GetOptions{}); err != nil {
				fail("warmup get: %v", err)
			}
		}
		u0, t0 := rusage(), time.Now()
		for i := 0; i < n; i++ {
			cm, err := cms.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				fail("get: %v", err)
			}
			if cm.Name != name {
				fail("get: wrong object %q", cm.Name)
			}
		}
		wall, u1 := time.Since(t0).Seconds(), rusage()
		out["n"], out["wall"], out["user"], out["sys"] = n, wall, u1.user-u0.user, u1.sys-u0.sys
	case "list", "pager":
		// warm the connection (TLS, HTTP/2) so that only the LIST is timed
		if _, err := cms.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			fail("warmup list: %v", err)
		}
		rss0 := vmRSS()
		u0, t0 := rusage(), time.Now()
		var items []corev1.ConfigMap
		nitems := 0
		if os.Args[1] == "list" {
			l, err := cms.List(ctx, metav1.ListOptions{})
			if err != nil {
				fail("list: %v", err)
			}
			items = l.Items
			nitems = len(items)
		} else {
			p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
				return cms.List(ctx, opts)
			})
			p.PageSize = int64(envInt("BENCH_PAGE", 500))
			obj, _, err := p.List(ctx, metav1.ListOptions{}) // all pages, items kept as decoded
			if err != nil {
				fail("pager: %v", err)
			}
			nitems = meta.LenList(obj)
		}
		wall, u1 := time.Since(t0).Seconds(), rusage()
		out["n"], out["items"] = 1, nitems
		out["wall"], out["user"], out["sys"] = wall, u1.user-u0.user, u1.sys-u0.sys
		out["rss0_kb"], out["maxrss_kb"] = rss0, maxRSS()
		if len(items) > 0 && items[0].Name == "" {
			fail("list: empty object")
		}
	case "watch":
		added := envInt("BENCH_WATCH_ADDED", 0)
		modified := envInt("BENCH_WATCH_MODIFIED", 0)
		ready := env("BENCH_READY_FILE", "")
		if _, err := cms.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			fail("warmup list: %v", err)
		}
		u0, t0 := rusage(), time.Now()
		w, err := cms.Watch(ctx, metav1.ListOptions{}) // no resourceVersion: synthetic ADDED for every object, then changes
		if err != nil {
			fail("watch: %v", err)
		}
		nAdded, nMod, events := 0, 0, 0
		var addedWall float64
		var uAdded usage
		var delays []float64
		for ev := range w.ResultChan() {
			now := time.Now()
			events++
			cm, ok := ev.Object.(*corev1.ConfigMap)
			if !ok {
				fail("watch: unexpected %s event %T", ev.Type, ev.Object)
			}
			switch ev.Type {
			case watch.Added:
				nAdded++
				if nAdded == added {
					addedWall, uAdded = time.Since(t0).Seconds(), rusage()
					if ready != "" {
						os.WriteFile(ready, []byte("ready\n"), 0o644)
					}
				}
			case watch.Modified:
				if s := cm.Annotations[stampAnnotation]; s != "" && nAdded >= added {
					us, _ := strconv.ParseInt(s, 10, 64) // writer's wall clock, microseconds
					delays = append(delays, float64(now.UnixMicro()-us)/1e6)
					nMod++
				}
			}
			if nAdded >= added && nMod >= modified {
				break
			}
		}
		wall, u1 := time.Since(t0).Seconds(), rusage()
		w.Stop()
		if nAdded < added || nMod < modified {
			fail("watch ended early: %d ADDED, %d MODIFIED", nAdded, nMod)
		}
		sort.Float64s(delays)
		out["n"], out["events"], out["wall"], out["user"], out["sys"] = events, events, wall, u1.user-u0.user, u1.sys-u0.sys
		out["added_wall"], out["added_user"], out["added_sys"] = addedWall, uAdded.user-u0.user, uAdded.sys-u0.sys
		out["delays"] = delays
	case "informer":
		// A shared informer factory with one ConfigMaps informer over the
		// namespace: Start to HasSynced (wall, CPU, peak RSS, RSS growth, then
		// HeapAlloc after a GC), then CPU per UpdateFunc while a separate
		// writer process stamps BENCH_INF_UPDATES objects.
		want := int64(envInt("BENCH_INF_UPDATES", 0))
		ready := env("BENCH_READY_FILE", "")
		timeout := time.Duration(envInt("BENCH_READY_TIMEOUT", 300)) * time.Second
		// warm the connection (TLS, HTTP/2): the factory uses the same clientset
		if _, err := cms.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			fail("warmup list: %v", err)
		}
		lists.Store(0)
		factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
		inf := factory.Core().V1().ConfigMaps().Informer()
		var adds, updates atomic.Int64
		delays := make([]float64, 0, want)
		done := make(chan struct{})
		if want <= 0 {
			close(done)
		}
		reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj interface{}) { adds.Add(1) },
			UpdateFunc: func(oldObj, newObj interface{}) {
				o, n := oldObj.(*corev1.ConfigMap), newObj.(*corev1.ConfigMap)
				if s := n.Annotations[stampAnnotation]; s != "" && s != o.Annotations[stampAnnotation] {
					us, _ := strconv.ParseInt(s, 10, 64) // the writer's wall clock, microseconds
					if int64(len(delays)) < want {
						delays = append(delays, float64(time.Now().UnixMicro()-us)/1e6)
					}
					if updates.Add(1) == want {
						close(done)
					}
				}
			},
		})
		if err != nil {
			fail("AddEventHandler: %v", err)
		}
		goruntime.GC()
		rss0 := vmRSS()
		stop := make(chan struct{})
		u0, t0 := rusage(), time.Now()
		factory.Start(stop)
		// WaitForCacheSync polls every 100 ms: poll HasSynced every 1 ms
		// instead, so that the sync time is not rounded up to 100 ms
		deadline := t0.Add(timeout)
		for !inf.HasSynced() {
			if time.Now().After(deadline) {
				fail("the informer did not sync within %v", timeout)
			}
			time.Sleep(time.Millisecond)
		}
		syncWall, u1, maxrss := time.Since(t0).Seconds(), rusage(), maxRSS()
		for _, ok := range factory.WaitForCacheSync(stop) {
			if !ok {
				fail("WaitForCacheSync: not synced")
			}
		}
		// the handler has had every initial add (its notifications are
		// delivered by another goroutine after HasSynced)
		for !reg.HasSynced() {
			time.Sleep(time.Millisecond)
		}
		handlersWall := time.Since(t0).Seconds()
		goruntime.GC()
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		out["heap_kb"] = float64(ms.HeapAlloc) / 1024
		out["items"], out["adds"] = len(inf.GetStore().ListKeys()), adds.Load()
		mode := "LIST+WATCH"
		if lists.Load() == 0 && watchLists.Load() > 0 {
			mode = "WatchList"
		}
		out["mode"] = mode
		out["sync_wall"], out["sync_user"], out["sync_sys"] = syncWall, u1.user-u0.user, u1.sys-u0.sys
		out["handlers_wall"] = handlersWall
		out["rss0_kb"], out["maxrss_kb"] = rss0, maxrss
		// the update phase: from the ready signal to the last UpdateFunc
		u2, t2 := rusage(), time.Now()
		if ready != "" {
			os.WriteFile(ready, []byte("ready\n"), 0o644)
		}
		select {
		case <-done:
		case <-time.After(timeout):
			fail("saw %d of %d updates", updates.Load(), want)
		}
		wall, u3 := time.Since(t2).Seconds(), rusage()
		close(stop)
		factory.Shutdown()
		out["n"], out["events"], out["wall"], out["user"], out["sys"] = want, want, wall, u3.user-u2.user, u3.sys-u2.sys
		out["delays"] = delays
	default:
		fail("unknown workload %q", os.Args[1])
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
