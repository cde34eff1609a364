#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <time.h>
#include "rest_internal.h"
#include "reason.h"
#include "exec.h"
#include "proto.h"

#define DEFAULT_QPS 5.0
#define DEFAULT_BURST 10

/* ---- debug log (K8S_OPT_VERBOSITY 6..9); never prints credentials ---- */

void k8s__debug(k8s_rest_client *c, int level, const char *fmt, ...)
{
	va_list ap;
	if (!c || c->verbose < level)
		return;
	fprintf(stderr, "k8s: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- path helpers (Go's path.Join / path.Clean) ---- */

/* path.Join of up to 8 elements; empty elements are skipped. */
static char *path_join(const char *const *el, size_t n)
{
	k8s_buf b = K8S_BUF_INIT;
	size_t i;
	int any = 0;
	char *res;
	for (i = 0; i < n; i++) {
		if (!el[i] || !*el[i])
			continue;
		if (any && k8s_buf_puts(&b, "/") < 0)
			goto oom;
		if (k8s_buf_puts(&b, el[i]) < 0)
			goto oom;
		any = 1;
	}
	if (!any) {
		k8s_buf_free(&b);
		return k8s__strdup("");
	}
	res = k8s__path_clean(b.ptr);
	k8s_buf_free(&b);
	return res;
oom:
	k8s_buf_free(&b);
	return NULL;
}

/* ---- client ---- */

static int has(const k8s_config *cfg, int f)
{
	switch (f) {
	case F_TLS_CADATA: case F_TLS_CERTDATA: case F_TLS_KEYDATA:
		return cfg->f[f].b.set;
	default:
		return cfg->f[f].s && *cfg->f[f].s;
	}
}

static char *default_user_agent(void)
{
	struct utsname u;
	char buf[256];
	const char *os = "linux", *arch = "unknown";
	if (uname(&u) == 0) {
		arch = u.machine;
		if (strcmp(arch, "x86_64") == 0)
			arch = "amd64";
		else if (strcmp(arch, "aarch64") == 0)
			arch = "arm64";
	}
	/* DefaultKubernetesUserAgent: "<command>/<version> (<os>/<arch>) kubernetes/<commit>" */
	snprintf(buf, sizeof(buf), "k8s-lua/v%s (%s/%s) kubernetes/libk8s", k8s_version(), os, arch);
	return k8s__strdup(buf);
}

/* Parse Host into base_url and base_path following rest.DefaultServerURL. */
static int parse_host(k8s_rest_client *c, int default_tls, char **server_host, char **server_port)
{
	const char *host = c->cfg->f[F_HOST].s;
	const char *scheme, *auth, *path, *p, *shown;
	char *h = NULL;
	int explicit_scheme = 0;
	size_t alen;
	if (!host || !*host)
		host = "localhost";
	/* a Host with user:password@ is refused below; never echo it */
	shown = strchr(host, '@') ? "(a URL with credentials)" : host;
	p = strstr(host, "://");
	if (p && p > host) {
		explicit_scheme = 1;
		scheme = host;
		if (!((p - host == 4 && strncasecmp(host, "http", 4) == 0) ||
		      (p - host == 5 && strncasecmp(host, "https", 5) == 0)))
			return k8s__error(K8S_EINVALID, "Invalid",
					  "config: Host \"%s\" has an unsupported scheme (http or https)", shown);
		auth = p + 3;
	} else {
		scheme = default_tls ? "https" : "http";
		auth = host;
	}
	path = strchr(auth, '/');
	alen = path ? (size_t)(path - auth) : strlen(auth);
	if (alen == 0 || memchr(auth, '@', alen) || memchr(auth, '?', alen) || memchr(auth, '#', alen) ||
	    memchr(auth, ' ', alen))
		return k8s__error(K8S_EINVALID, "Invalid", "config: Host \"%s\" must be a URL or a host:port pair", shown);
	if (path && !explicit_scheme && strcmp(path, "/") != 0)
		return k8s__error(K8S_EINVALID, "Invalid",
				  "config: Host \"%s\" must be a URL or a host:port pair (a path needs a scheme)", shown);
	if (path && (strchr(path, '?') || strchr(path, '#')))
		return k8s__error(K8S_EINVALID, "Invalid", "config: Host \"%s\" must not have a query or fragment", shown);
	{
		/* split host and port */
		const char *hs = auth, *he = auth + alen, *port = NULL;
		if (*hs == '[') {
			const char *rb = memchr(hs, ']', alen);
			if (!rb)
				return k8s__error(K8S_EINVALID, "Invalid", "config: Host \"%s\": unterminated IPv6 address", shown);
			if (rb + 1 < he) {
				if (rb[1] != ':')
					return k8s__error(K8S_EINVALID, "Invalid", "config: Host \"%s\" is malformed", shown);
				port = rb + 2;
			}
			he = rb + 1;
		} else {
			const char *colon = memchr(hs, ':', alen);
			if (colon) {
				port = colon + 1;
				he = colon;
			}
		}
		if (port) {
			const char *q;
			for (q = port; q < auth + alen; q++)
				if (!isdigit((unsigned char)*q))
					return k8s__error(K8S_EINVALID, "Invalid", "config: Host \"%s\" has an invalid port", shown);
			if (port == auth + alen)
				port = NULL;
		}
		h = k8s__strndup(hs, (size_t)(he - hs));
		*server_host = h;
		*server_port = port ? k8s__strndup(port, (size_t)(auth + alen - port))
				    : k8s__strdup(strncasecmp(scheme, "https", 5) == 0 ? "443" : "80");
		if (!*server_host || !*server_port)
			return k8s__error_oom();
	}
	{
		k8s_buf b = K8S_BUF_INIT;
		size_t slen = explicit_scheme ? (size_t)(p - host) : strlen(scheme);
		char *lower = k8s__strndup(scheme, slen);
		size_t i;
		if (!lower)
			return k8s__error_oom();
		for (i = 0; i < slen; i++)
			lower[i] = (char)tolower((unsigned char)lower[i]);
		if (k8s_buf_printf(&b, "%s://%.*s", lower, (int)alen, auth) < 0) {
			free(lower);
			return K8S_ENOMEM;
		}
		free(lower);
		c->base_url = k8s_buf_detach(&b);
	}
	if (path && strcmp(path, "/") != 0) {
		c->base_path = *path ? k8s__path_clean(path) : k8s__strdup("");
		if (c->base_path && strcmp(c->base_path, "/") == 0) {
			free(c->base_path);
			c->base_path = k8s__strdup("");
		}
	} else {
		c->base_path = k8s__strdup("");
	}
	if (!c->base_url || !c->base_path)
		return k8s__error_oom();
	return 0;
}

int k8s__rest_client_new(k8s_rest_client **out, const k8s_config *src, int versioned, k8s_transport *shared)
{
	k8s_rest_client *c;
	k8s_config *cfg;
	k8s_transport_options to;
	const char *gv;
	char *shost = NULL, *sport = NULL, *connect_to = NULL;
	int rc, default_tls;
	double qps;

	*out = NULL;
	if ((rc = k8s_global_init()) < 0)
		return rc;
	if ((rc = k8s_config_validate(src)) < 0)
		return rc;
	gv = src->f[F_GROUPVERSION].s;
	if (versioned && (!gv || !*gv))
		return k8s__error(K8S_EINVALID, "Invalid", "config: ContentConfig.GroupVersion is required when initializing a RESTClient");
	if ((rc = k8s_config_copy(&cfg, src)) < 0)
		return rc;
	if (!(c = calloc(1, sizeof(*c)))) {
		k8s_config_free(cfg);
		return k8s__error_oom();
	}
	c->refs = 1;
	c->cfg = cfg;
	if ((rc = k8s__exec_attach(cfg)) < 0)
		goto fail;
	{
		/* client-go's readExpBackoffConfig: per-client exponential backoff
		 * only when both variables are set (seconds) */
		const char *b = getenv("KUBE_CLIENT_BACKOFF_BASE"), *d = getenv("KUBE_CLIENT_BACKOFF_DURATION");
		if (b && d && atof(b) > 0 && atof(d) > 0) {
			c->backoff_base = atof(b);
			c->backoff_max = atof(d);
		}
	}
	c->verbose = (int)k8s__opt_number(K8S_OPT_VERBOSITY);
	c->file_token_period = k8s__opt_number(K8S_OPT_TOKEN_FILE_PERIOD);

	default_tls = has(cfg, F_TLS_CAFILE) || has(cfg, F_TLS_CADATA) || has(cfg, F_TLS_CERTFILE) ||
		      has(cfg, F_TLS_CERTDATA) || cfg->f[F_TLS_INSECURE].flag.value || has(cfg, F_TLS_SERVERNAME);
	if ((rc = parse_host(c, default_tls, &shost, &sport)) < 0)
		goto fail;
	/* without it the sans-I/O wire would connect to localhost */
	if (!(c->wire_host = k8s__strdup(shost))) {
		rc = k8s__error_oom();
		goto fail;
	}
	c->wire_port = sport ? atoi(sport) : 0;

	/* group/version and the versioned API path */
	if (gv && *gv) {
		const char *slash = strchr(gv, '/');
		c->group = slash ? k8s__strndup(gv, (size_t)(slash - gv)) : k8s__strdup("");
		c->version = k8s__strdup(slash ? slash + 1 : gv);
	} else {
		c->group = k8s__strdup("");
		c->version = k8s__strdup("");
	}
	{
		const char *el[3] = {cfg->f[F_APIPATH].s ? cfg->f[F_APIPATH].s : "", c->group, c->version};
		char *vp = versioned ? path_join(el, 3) : k8s__strdup("");
		if (vp && *vp && vp[0] != '/') {
			char *abs = malloc(strlen(vp) + 2);
			if (abs)
				sprintf(abs, "/%s", vp);
			free(vp);
			vp = abs;
		}
		c->versioned_path = vp;
	}
	/* ContentType protobuf: responses in protobuf (turned into JSON by
	 * result.c and watch.c), request bodies still JSON, as this library
	 * writes them from tables; the server answers JSON for types without
	 * protobuf (custom resources), which the Accept list allows */
	{
		const char *ct = has(cfg, F_CONTENTTYPE) ? cfg->f[F_CONTENTTYPE].s : "application/json";
		int pb = k8s__pb_is_content_type(ct);
		k8s_buf b = K8S_BUF_INIT;
		c->content_type = k8s__strdup(pb ? "application/json" : ct);
		if (has(cfg, F_ACCEPT))
			c->accept = k8s__strdup(cfg->f[F_ACCEPT].s);
		else if (pb)
			c->accept = k8s__strdup(K8S_PB_CONTENT_TYPE ", application/json");
		else if (k8s_buf_printf(&b, "%s, */*", ct) == 0)
			c->accept = k8s_buf_detach(&b);
		k8s_buf_free(&b);
	}
	c->user_agent = has(cfg, F_USERAGENT) ? k8s__strdup(cfg->f[F_USERAGENT].s) : default_user_agent();
	if (!c->group || !c->version || !c->versioned_path || !c->content_type || !c->accept || !c->user_agent) {
		rc = k8s__error_oom();
		goto fail;
	}

	/* rate limiter: RateLimiter overrides; QPS 0 = 5, negative = off */
	qps = cfg->f[F_QPS].num.value;
	if (cfg->rate_limiter) {
		c->rl = k8s_rate_limiter_ref(cfg->rate_limiter);
	} else if (qps >= 0) {
		double burst = cfg->f[F_BURST].num.value;
		if (qps == 0)
			qps = DEFAULT_QPS;
		if (burst <= 0)
			burst = DEFAULT_BURST;
		if ((rc = k8s_rate_limiter_new_token_bucket(&c->rl, qps, (int)burst)) < 0)
			goto fail;
	}

	/* TLS ServerName: connect to the real host, but name the server ServerName */
	if (has(cfg, F_TLS_SERVERNAME) && strncmp(c->base_url, "https://", 8) == 0) {
		const char *sn = cfg->f[F_TLS_SERVERNAME].s;
		k8s_buf b = K8S_BUF_INIT, u = K8S_BUF_INIT;
		if (k8s_buf_printf(&b, "%s:%s:%s:%s", sn, sport, shost, sport) < 0 ||
		    k8s_buf_printf(&u, "https://%s:%s", sn, sport) < 0) {
			k8s_buf_free(&b);
			k8s_buf_free(&u);
			rc = K8S_ENOMEM;
			goto fail;
		}
		connect_to = k8s_buf_detach(&b);
		free(c->base_url);
		c->base_url = k8s_buf_detach(&u);
	}

	memset(&to, 0, sizeof(to));
	to.insecure = cfg->f[F_TLS_INSECURE].flag.value;
	to.ca_file = cfg->f[F_TLS_CAFILE].s;
	to.cert_file = cfg->f[F_TLS_CERTFILE].s;
	to.key_file = cfg->f[F_TLS_KEYFILE].s;
	to.ca_data = cfg->f[F_TLS_CADATA].b.set ? cfg->f[F_TLS_CADATA].b.data : NULL;
	to.ca_len = cfg->f[F_TLS_CADATA].b.len;
	to.cert_data = cfg->f[F_TLS_CERTDATA].b.set ? cfg->f[F_TLS_CERTDATA].b.data : NULL;
	to.cert_len = cfg->f[F_TLS_CERTDATA].b.len;
	to.key_data = cfg->f[F_TLS_KEYDATA].b.set ? cfg->f[F_TLS_KEYDATA].b.data : NULL;
	to.key_len = cfg->f[F_TLS_KEYDATA].b.len;
	to.connect_to = connect_to;
	to.proxy = cfg->f[F_PROXY].s;
	to.disable_compression = cfg->f[F_DISABLECOMPRESSION].flag.value;
	to.verbose = c->verbose;
	if (shared)
		c->transport = k8s_transport_ref(shared);
	else if ((rc = k8s_transport_new(&c->transport, &to)) < 0)
		goto fail;
	free(shost);
	free(sport);
	free(connect_to);
	*out = c;
	return 0;
fail:
	free(shost);
	free(sport);
	free(connect_to);
	k8s_rest_client_free(c);
	return rc;
}

int k8s_rest_client_for(k8s_rest_client **out, const k8s_config *cfg)
{
	return k8s__rest_client_new(out, cfg, 1, NULL);
}

int k8s_rest_client_unversioned(k8s_rest_client **out, const k8s_config *cfg)
{
	return k8s__rest_client_new(out, cfg, cfg->f[F_GROUPVERSION].s && *cfg->f[F_GROUPVERSION].s, NULL);
}

int k8s_rest_config_for_group_version(k8s_config **out, const k8s_config *cfg, const char *group, const char *version)
{
	k8s_config *c;
	k8s_buf gv = K8S_BUF_INIT;
	int rc;
	*out = NULL;
	if (!version || !*version)
		return k8s__error(K8S_EINVALID, "Invalid", "group version: version must not be empty");
	if ((rc = k8s_config_copy(&c, cfg)) < 0)
		return rc;
	if ((rc = (group && *group) ? k8s_buf_printf(&gv, "%s/%s", group, version) : k8s_buf_puts(&gv, version)) < 0 ||
	    (rc = k8s_config_set_string(c, "ContentConfig.GroupVersion", gv.ptr)) < 0 ||
	    (rc = k8s_config_set_string(c, "APIPath", (group && *group) ? "/apis" : "/api")) < 0) {
		k8s_buf_free(&gv);
		k8s_config_free(c);
		return rc;
	}
	k8s_buf_free(&gv);
	*out = c;
	return 0;
}

k8s_rest_client *k8s_rest_client_ref(k8s_rest_client *rc)
{
	if (rc)
		rc->refs++;
	return rc;
}

void k8s_rest_client_free(k8s_rest_client *c)
{
	if (!c || --c->refs > 0)
		return;
	k8s_transport_free(c->transport);
	k8s_rate_limiter_free(c->rl);
	k8s_config_free(c->cfg);
	free(c->base_url);
	free(c->base_path);
	free(c->versioned_path);
	free(c->group);
	free(c->version);
	free(c->accept);
	free(c->content_type);
	free(c->user_agent);
	k8s__sfree(c->file_token);
	k8s__wire_client_free(c);
	free(c);
}

const char *k8s_rest_client_base_url(const k8s_rest_client *rc)
{
	return rc->base_url;
}

void k8s_rest_client_api_version(const k8s_rest_client *rc, const char **group, const char **version)
{
	if (group)
		*group = rc->group;
	if (version)
		*version = rc->version;
}

k8s_rate_limiter *k8s_rest_client_rate_limiter(const k8s_rest_client *rc)
{
	return rc->rl;
}

const k8s_config *k8s_rest_client_config(const k8s_rest_client *rc)
{
	return rc->cfg;
}

/* ---- request building ---- */

static int req_fail(k8s_request *r, const char *fmt, ...) K8S_PRINTF(2, 3);
static int req_fail(k8s_request *r, const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->err) {
		r->err = K8S_EINVALID;
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
	}
	return k8s__error(K8S_EINVALID, "Invalid", "%s", msg);
}

/* Out of memory in a setter is remembered as well: a caller that ignores
 * what a setter returned must still never send the request without what
 * could not be stored (the namespace of a DeleteCollection, a selector). */
static int req_oom(k8s_request *r)
{
	if (!r->err) {
		r->err = K8S_ENOMEM;
		snprintf(r->errmsg, sizeof(r->errmsg), "out of memory");
	}
	return k8s__error_oom();
}

int k8s_rest_client_verb(k8s_request **out, k8s_rest_client *rc, const char *verb)
{
	k8s_request *r;
	const char *el[2];
	*out = NULL;
	if (!rc || !verb || !*verb)
		return k8s__error(K8S_EINVALID, "Invalid", "request: verb must not be empty");
	if (!(r = calloc(1, sizeof(*r))))
		return k8s__error_oom();
	r->c = k8s_rest_client_ref(rc);
	r->verb = k8s__strdup(verb);
	el[0] = rc->base_path;
	el[1] = rc->versioned_path;
	r->path_prefix = path_join(el, 2);
	r->max_retries = 10;
	r->timeout = rc->cfg->f[F_TIMEOUT].num.value;
	if (!r->verb || !r->path_prefix) {
		k8s_request_free(r);
		return k8s__error_oom();
	}
	{
		char *q;
		for (q = r->verb; *q; q++)
			*q = (char)toupper((unsigned char)*q);
	}
	*out = r;
	return 0;
}

void k8s_request_free(k8s_request *r)
{
	if (!r)
		return;
	k8s_rest_client_free(r->c);
	free(r->verb);
	free(r->path_prefix);
	free(r->subpath);
	free(r->ns);
	free(r->resource);
	free(r->name);
	free(r->subresource);
	k8s__strlist_free(&r->params);
	k8s__strlist_free(&r->headers);
	free(r->body);
	free(r);
}

/* IsValidPathSegmentName */
static const char *segment_problem(const char *s, char *buf, size_t n)
{
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		snprintf(buf, n, "may not be '%s'", s);
		return buf;
	}
	if (strchr(s, '/')) {
		snprintf(buf, n, "may not contain '/'");
		return buf;
	}
	if (strchr(s, '%')) {
		snprintf(buf, n, "may not contain '%%'");
		return buf;
	}
	return NULL;
}

static int set_once(k8s_request *r, char **slot, const char *v, const char *what)
{
	if (*slot)
		return req_fail(r, "%s already set to \"%s\", cannot change to \"%s\"", what, *slot, v);
	if (!(*slot = k8s__strdup(v)))
		return req_oom(r);
	return 0;
}

int k8s_request_namespace(k8s_request *r, const char *ns)
{
	char buf[64], *copy;
	const char *why;
	if (!ns)
		ns = "";
	if (r->ns_set)
		return req_fail(r, "namespace already set to \"%s\", cannot change to \"%s\"", r->ns, ns);
	if ((why = segment_problem(ns, buf, sizeof(buf))))
		return req_fail(r, "invalid namespace \"%s\": %s", ns, why);
	/* without its namespace a request means every namespace */
	if (!(copy = k8s__strdup(ns)))
		return req_oom(r);
	free(r->ns);
	r->ns = copy;
	r->ns_set = 1;
	return 0;
}

int k8s_request_resource(k8s_request *r, const char *res)
{
	char buf[64];
	const char *why;
	if (!res)
		res = "";
	if (r->resource)
		return req_fail(r, "resource already set to \"%s\", cannot change to \"%s\"", r->resource, res);
	if ((why = segment_problem(res, buf, sizeof(buf))))
		return req_fail(r, "invalid resource \"%s\": %s", res, why);
	return set_once(r, &r->resource, res, "resource");
}

int k8s_request_name(k8s_request *r, const char *name)
{
	char buf[64];
	const char *why;
	if (!name || !*name)
		return req_fail(r, "resource name may not be empty");
	if (r->name)
		return req_fail(r, "resource name already set to \"%s\", cannot change to \"%s\"", r->name, name);
	if ((why = segment_problem(name, buf, sizeof(buf))))
		return req_fail(r, "invalid resource name \"%s\": %s", name, why);
	return set_once(r, &r->name, name, "resource name");
}

int k8s_request_subresource(k8s_request *r, const char *sub)
{
	char buf[64], *copy, *seg, *save = NULL;
	const char *why;
	const char *el[1];
	char *joined;
	if (!sub)
		sub = "";
	el[0] = sub;
	if (!(joined = path_join(el, 1)))
		return req_oom(r);
	if (r->subresource) {
		int rc = req_fail(r, "subresource already set to \"%s\", cannot change to \"%s\"", r->subresource, joined);
		free(joined);
		return rc;
	}
	if (!(copy = k8s__strdup(sub))) {
		free(joined);
		return req_oom(r);
	}
	for (seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if ((why = segment_problem(seg, buf, sizeof(buf)))) {
			int rc = req_fail(r, "invalid subresource \"%s\": %s", seg, why);
			free(copy);
			free(joined);
			return rc;
		}
	}
	free(copy);
	r->subresource = joined;
	return 0;
}

int k8s_request_prefix(k8s_request *r, const char *segments)
{
	const char *el[2] = {r->path_prefix, segments};
	char *p = path_join(el, 2);
	if (!p)
		return req_oom(r);
	free(r->path_prefix);
	r->path_prefix = p;
	return 0;
}

int k8s_request_suffix(k8s_request *r, const char *segments)
{
	const char *el[2] = {r->subpath, segments};
	char *p = path_join(el, 2);
	if (!p)
		return req_oom(r);
	free(r->subpath);
	r->subpath = p;
	return 0;
}

int k8s_request_abs_path(k8s_request *r, const char *path)
{
	const char *el[2] = {r->c->base_path, path};
	char *p = path_join(el, 2);
	if (!p)
		return req_oom(r);
	/* path.Join drops a trailing slash that the caller asked for */
	if (path && *path && path[strlen(path) - 1] == '/' && (!*p || p[strlen(p) - 1] != '/')) {
		char *q = malloc(strlen(p) + 2);
		if (!q) {
			free(p);
			return req_oom(r);
		}
		sprintf(q, "%s/", p);
		free(p);
		p = q;
	}
	free(r->path_prefix);
	r->path_prefix = p;
	return 0;
}

int k8s_request_param(k8s_request *r, const char *key, const char *value)
{
	int rc;
	if (!key || !*key)
		return req_fail(r, "query parameter name may not be empty");
	if ((rc = k8s__strlist_add(&r->params, key)) < 0)
		return req_oom(r);
	if ((rc = k8s__strlist_add(&r->params, value ? value : "")) < 0) {
		free(r->params.items[--r->params.n]);
		return req_oom(r);
	}
	return 0;
}

int k8s_request_set_header(k8s_request *r, const char *name, const char *value)
{
	size_t i;
	int rc;
	if (!name || !*name || strpbrk(name, ":\r\n"))
		return req_fail(r, "invalid header name \"%s\"", name ? name : "");
	if (value && strpbrk(value, "\r\n"))
		return req_fail(r, "header %s: value may not contain a line break", name);
	for (i = 0; i + 1 < r->headers.n; i += 2) {
		if (strcasecmp(r->headers.items[i], name) == 0) {
			char *v = k8s__strdup(value ? value : "");
			if (!v)
				return req_oom(r);
			free(r->headers.items[i + 1]);
			r->headers.items[i + 1] = v;
			return 0;
		}
	}
	if ((rc = k8s__strlist_add(&r->headers, name)) < 0)
		return req_oom(r);
	if ((rc = k8s__strlist_add(&r->headers, value ? value : "")) < 0) {
		free(r->headers.items[--r->headers.n]);
		return req_oom(r);
	}
	return 0;
}

int k8s_request_body(k8s_request *r, const void *data, size_t len)
{
	char *copy = k8s__strndup(data ? data : "", data ? len : 0);
	if (!copy)
		return req_oom(r);
	free(r->body);
	r->body = copy;
	r->body_len = data ? len : 0;
	r->has_body = 1;
	return 0;
}

int k8s_request_timeout(k8s_request *r, double seconds)
{
	if (seconds < 0)
		return req_fail(r, "timeout must not be negative");
	r->timeout = seconds;
	return 0;
}

int k8s_request_max_retries(k8s_request *r, int n)
{
	r->max_retries = n < 0 ? 0 : n;
	return 0;
}

int k8s_request_observe_body(k8s_request *r, k8s_body_observer fn, void *payload)
{
	r->observer = fn;
	r->observer_payload = payload;
	return 0;
}

static int escape_into(k8s_buf *b, const char *s, int query)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
		    (!query && strchr("/$&+,:;=@", ch))) {
			if (k8s_buf_put(b, s, 1) < 0)
				return K8S_ENOMEM;
		} else if (query && ch == ' ') {
			if (k8s_buf_put(b, "+", 1) < 0)
				return K8S_ENOMEM;
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			if (k8s_buf_put(b, e, 3) < 0)
				return K8S_ENOMEM;
		}
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int preflight(k8s_request *r)
{
	if (r->err)
		return k8s__error(r->err, r->err == K8S_ENOMEM ? "OutOfMemory" : "Invalid", "%s", r->errmsg);
	if (r->ns_set && !*r->ns) {
		if (strcmp(r->verb, "POST") == 0)
			return k8s__error(K8S_EINVALID, "Invalid", "an empty namespace may not be set during creation");
		if (r->name && (!strcmp(r->verb, "GET") || !strcmp(r->verb, "PUT") || !strcmp(r->verb, "DELETE")))
			return k8s__error(K8S_EINVALID, "Invalid",
					  "an empty namespace may not be set when a resource name is provided");
	}
	return 0;
}

char *k8s_request_url(k8s_request *r)
{
	k8s_buf b = K8S_BUF_INIT;
	char *p = NULL, *tmp;
	const char *el[4];
	char **keys = NULL;
	size_t nk = 0, i, j;
	int first = 1;
	char dur[64];

	if (preflight(r) < 0)
		return NULL;
	if (!(p = k8s__strdup(r->path_prefix)))
		goto oom;
	if (r->ns_set && *r->ns) {
		el[0] = p; el[1] = "namespaces"; el[2] = r->ns;
		tmp = path_join(el, 3);
		free(p);
		if (!(p = tmp))
			goto oom;
	}
	if (r->resource && *r->resource) {
		char *lower = k8s__strdup(r->resource), *q;
		if (!lower)
			goto oom;
		for (q = lower; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		el[0] = p; el[1] = lower;
		tmp = path_join(el, 2);
		free(lower);
		free(p);
		if (!(p = tmp))
			goto oom;
	}
	if (r->name || r->subresource || r->subpath) {
		el[0] = p; el[1] = r->name; el[2] = r->subresource; el[3] = r->subpath;
		tmp = path_join(el, 4);
		free(p);
		if (!(p = tmp))
			goto oom;
	}
	if (*p && p[0] != '/') {
		/* client-go's paths are rooted (the base URL's path is "/" at
		 * least): a relative one must not put a leading ".." on the wire */
		int slash = p[strlen(p) - 1] == '/';
		el[0] = "/"; el[1] = p;
		tmp = path_join(el, 2);
		free(p);
		if (!(p = tmp))
			goto oom;
		if (slash && p[strlen(p) - 1] != '/') {
			if (!(tmp = malloc(strlen(p) + 2)))
				goto oom;
			sprintf(tmp, "%s/", p);
			free(p);
			p = tmp;
		}
	}
	if (k8s_buf_puts(&b, r->c->base_url) < 0)
		goto oom;
	if (escape_into(&b, p, 0) < 0)
		goto oom;
	/* url.Values.Encode: keys sorted, values in insertion order */
	if (r->params.n || r->timeout > 0) {
		keys = calloc(r->params.n / 2 + 2, sizeof(char *));
		if (!keys)
			goto oom;
		for (i = 0; i + 1 < r->params.n; i += 2) {
			for (j = 0; j < nk; j++)
				if (strcmp(keys[j], r->params.items[i]) == 0)
					break;
			if (j == nk)
				keys[nk++] = r->params.items[i];
		}
		if (r->timeout > 0) {
			for (j = 0; j < nk; j++)
				if (strcmp(keys[j], "timeout") == 0)
					break;
			if (j == nk)
				keys[nk++] = "timeout";
		}
		qsort(keys, nk, sizeof(char *), cmp_str);
		for (j = 0; j < nk; j++) {
			int found = 0;
			for (i = 0; i + 1 < r->params.n; i += 2) {
				if (strcmp(keys[j], r->params.items[i]))
					continue;
				if (r->timeout > 0 && strcmp(keys[j], "timeout") == 0)
					continue; /* client-go: query.Set("timeout", ...) replaces it */
				found = 1;
				if (k8s_buf_puts(&b, first ? "?" : "&") < 0 || escape_into(&b, keys[j], 1) < 0 ||
				    k8s_buf_puts(&b, "=") < 0 || escape_into(&b, r->params.items[i + 1], 1) < 0)
					goto oom;
				first = 0;
			}
			if (!found && strcmp(keys[j], "timeout") == 0) {
				k8s__format_go_duration(r->timeout, dur, sizeof(dur));
				if (k8s_buf_puts(&b, first ? "?timeout=" : "&timeout=") < 0 || escape_into(&b, dur, 1) < 0)
					goto oom;
				first = 0;
			}
		}
		free(keys);
	}
	free(p);
	return k8s_buf_detach(&b);
oom:
	free(keys);
	free(p);
	k8s_buf_free(&b);
	k8s__error_oom();
	return NULL;
}

k8s_transport *k8s__rest_client_transport(k8s_rest_client *c)
{
	return c->transport;
}
