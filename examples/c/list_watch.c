/*
 * list_watch.c - the C API from an installed libk8s: load the kubeconfig
 * (default loading rules: KUBECONFIG, ~/.kube/config, in-cluster), list the
 * ConfigMaps of a namespace, then watch them until the first event.
 *
 *   make install PREFIX=$HOME/.local
 *   cc -o list_watch list_watch.c $(PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig pkg-config --cflags --libs k8s)
 *   LD_LIBRARY_PATH=$HOME/.local/lib ./list_watch kube-system
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <k8s.h>

static int fail(const char *what)
{
	const k8s_error *e = k8s_error_last();
	fprintf(stderr, "%s: %s: %s\n", what, e->reason, e->message);
	return 1;
}

/* every metadata.name of a JSON text json[0..len) (enough for printing;
 * a real program would use a JSON parser) */
static void print_names(const char *json, size_t len, const char *prefix)
{
	char *copy = malloc(len + 1);
	const char *p = copy;
	if (!copy)
		return;
	memcpy(copy, json, len);
	copy[len] = 0;
	while ((p = strstr(p, "\"metadata\":{")) != NULL) {
		const char *n = strstr(p, "\"name\":\""), *end;
		if (!n)
			break;
		n += 8;
		end = strchr(n, '"');
		if (!end)
			break;
		printf("%s%.*s\n", prefix, (int)(end - n), n);
		p = end;
	}
	free(copy);
}

int main(int argc, char **argv)
{
	const char *ns = argc > 1 ? argv[1] : "default";
	const k8s_api_resource *cms = k8s_api_resource_lookup("CoreV1", "ConfigMaps");
	k8s_config *cfg = NULL;
	k8s_clientset *cs = NULL;
	k8s_rest_client *rc = NULL;
	k8s_request *req = NULL;
	k8s_result *res = NULL;
	k8s_watch *w = NULL;
	k8s_watch_event ev;
	int rc_ = 1, n;

	printf("libk8s %s\n", k8s_version());
	if (k8s_clientcmd_build_config_from_flags(&cfg, "", "") < 0)
		return fail("kubeconfig");
	if (k8s_clientset_new(&cs, cfg) < 0) {
		fail("clientset");
		goto out;
	}
	if (k8s_clientset_group_version(&rc, cs, "CoreV1") < 0) {
		fail("CoreV1");
		goto out;
	}

	/* LIST */
	if (k8s_resource_request(&req, rc, cms, ns, K8S_VERB_LIST, NULL, NULL) < 0 || k8s_request_do(&res, req) < 0) {
		fail("list");
		goto out;
	}
	printf("configmaps in %s:\n", ns);
	{
		size_t len;
		const char *body = k8s_result_body(res, &len);
		print_names(body, len, "  ");
	}
	k8s_request_free(req);
	req = NULL;

	/* WATCH: without a resourceVersion the server first sends an ADDED
	 * event per existing object */
	if (k8s_resource_request(&req, rc, cms, ns, K8S_VERB_WATCH, NULL, NULL) < 0 ||
	    k8s_request_param(req, "timeoutSeconds", "30") < 0 || k8s_request_watch(&w, NULL, req) < 0) {
		fail("watch");
		goto out;
	}
	n = k8s_watch_next(w, &ev, 30);
	if (n != 1) {
		fail("watch event");
		goto out;
	}
	printf("first watch event: %s\n", ev.type_name);
	print_names(ev.object, ev.object_len, "  ");
	rc_ = 0;
out:
	k8s_watch_free(w);
	k8s_result_free(res);
	k8s_request_free(req);
	k8s_rest_client_free(rc);
	k8s_clientset_free(cs);
	k8s_config_free(cfg);
	return rc_;
}
