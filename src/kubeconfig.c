/* tools/clientcmd (kubeconfig loading, merging, validation, persisting) and
 * rest.InClusterConfig. One libyaml document model covers YAML and JSON. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "config_internal.h"
#include "k8s/clientcmd.h"

#define SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"
#define MAX_FILE_SIZE (16u << 20)
#define MAX_MERGE_DEPTH 16
#define ERR_NOT_IN_CLUSTER \
	"unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
#define ERR_EMPTY_CONFIG "invalid configuration: no configuration has been provided"
#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* ---- small helpers ---- */

static int empty(const char *s)
{
	return !s || !*s;
}

static void wipe_free(char *p, size_t n)
{
	k8s__wipe(p, n);
	free(p);
}

static void bytes_free(k8s_bytes *b)
{
	wipe_free(b->data, b->len);
	memset(b, 0, sizeof(*b));
}


static const char *reason_for(int code)
{
	switch (code) {
	case K8S_ENOTFOUND: return "NotFound";
	case K8S_ENOMEM: return "OutOfMemory";
	case K8S_EINVALID: return "Invalid";
	default: return "IOError";
	}
}

/* "kubeconfig FILE: KIND "NAME": message (line N)"; never given a secret. */
static int ferr(int code, const char *file, const char *kind, const char *name, int line, const char *fmt, ...)
	K8S_PRINTF(6, 7);
static int ferr(int code, const char *file, const char *kind, const char *name, int line, const char *fmt, ...)
{
	char msg[768], where[32] = "", entry[320] = "";
	va_list ap;
	if (code == K8S_ENOMEM)
		return k8s__error_oom();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), " (line %d)", line);
	if (kind && name)
		snprintf(entry, sizeof(entry), "%s \"%s\": ", kind, name);
	if (file)
		return k8s__error(code, reason_for(code), "kubeconfig %s: %s%s%s", file, entry, msg, where);
	return k8s__error(code, reason_for(code), "%s%s%s", entry, msg, where);
}

static int errno_code(int e)
{
	return e == ENOENT ? K8S_ENOTFOUND : e == ENOMEM ? K8S_ENOMEM : K8S_ERROR;
}

/* Read a whole file, NUL-terminated. Returns 0 or -errno. */
static int slurp(const char *path, char **data, size_t *len)
{
	return k8s__read_file(path, MAX_FILE_SIZE, data, len);
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return k8s__strndup(s, n);
}

/* The absolute directory of a file (filepath.Abs(filepath.Dir(path))). */
static char *abs_dir(const char *path)
{
	k8s_buf b = K8S_BUF_INIT;
	char *clean, *slash;
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return NULL;
		if (k8s_buf_puts(&b, cwd) < 0 || k8s_buf_puts(&b, "/") < 0) {
			free(cwd);
			k8s_buf_free(&b);
			return NULL;
		}
		free(cwd);
	}
	if (k8s_buf_puts(&b, path) < 0) {
		k8s_buf_free(&b);
		return NULL;
	}
	clean = k8s__path_clean(b.ptr);
	k8s_buf_free(&b);
	if (!clean)
		return NULL;
	slash = strrchr(clean, '/');
	if (slash == clean)
		clean[1] = 0;
	else if (slash)
		*slash = 0;
	return clean;
}

/* filepath.Join(dir, rel) unless rel is absolute (then unchanged). */
static char *resolve_path(const char *dir, const char *rel)
{
	k8s_buf b = K8S_BUF_INIT;
	char *r;
	if (rel[0] == '/')
		return k8s__strdup(rel);
	if (k8s_buf_puts(&b, dir) < 0 || k8s_buf_puts(&b, "/") < 0 || k8s_buf_puts(&b, rel) < 0) {
		k8s_buf_free(&b);
		return NULL;
	}
	r = k8s__path_clean(b.ptr);
	k8s_buf_free(&b);
	return r;
}

/* Standard base64 (RFC 4648), padding optional, line breaks and blanks skipped. */
static int b64_decode(const char *in, size_t n, char **out, size_t *outlen, size_t *bad)
{
	unsigned acc = 0;
	size_t i, bits = 0, w = 0, nchar = 0, npad = 0;
	char *o = malloc(n / 4 * 3 + 4);
	if (!o)
		return K8S_ENOMEM;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;
		if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		if (c == '=') {
			npad++;
			continue;
		}
		if (npad)
			goto invalid;
		if (c >= 'A' && c <= 'Z') v = c - 'A';
		else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
		else if (c >= '0' && c <= '9') v = c - '0' + 52;
		else if (c == '+') v = 62;
		else if (c == '/') v = 63;
		else goto invalid;
		nchar++;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[w++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (nchar % 4 == 1 || npad > 2 || (npad && (nchar + npad) % 4))
		goto invalid_end;
	o[w] = 0;
	*out = o;
	*outlen = w;
	return 0;
invalid_end:
	i = n;
invalid:
	wipe_free(o, n / 4 * 3 + 4);
	*bad = i;
	return K8S_EINVALID;
}

/* ---- the YAML document model ---- */

typedef struct {
	yaml_document_t *doc;
	const char *file;
	const char *kind; /* "cluster", "user", "context", or NULL */
	const char *name;
} pctx;

static yaml_node_t *ynode(yaml_document_t *d, int id)
{
	return id ? yaml_document_get_node(d, id) : NULL;
}

static int yline(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int yis(const yaml_node_t *n, const char *s)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

static int ynull(const yaml_node_t *n)
{
	const char *v;
	if (!n)
		return 1;
	if (n->type != YAML_SCALAR_NODE)
		return 0;
	if (n->tag && strcmp((const char *)n->tag, YAML_NULL_TAG) == 0)
		return 1;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A merge key: a plain `<<` (a quoted "<<" is an ordinary key, as in YAML 1.1
 * and go-yaml). */
static int ymerge(const yaml_node_t *n)
{
	return yis(n, "<<") && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Merged mappings are followed once per lookup: aliases can share one mapping
 * among many `<<` keys on every level, and following every path is
 * exponential (an alias bomb). *seen, one byte per node, is allocated on the
 * first merge followed. 1: follow n now; 0: already followed; -1: no memory. */
static int merge_once(yaml_document_t *d, yaml_node_t *n, unsigned char **seen)
{
	size_t i = (size_t)(n - d->nodes.start);
	if (!*seen && !(*seen = calloc((size_t)(d->nodes.top - d->nodes.start), 1)))
		return -1;
	if ((*seen)[i])
		return 0;
	(*seen)[i] = 1;
	return 1;
}

/* A mapping's value for key, following `<<` merge keys (explicit keys win). */
static yaml_node_t *map_get_d(yaml_document_t *d, yaml_node_t *map, const char *key, int depth, unsigned char **seen)
{
	yaml_node_pair_t *p;
	if (!map || map->type != YAML_MAPPING_NODE || depth > MAX_MERGE_DEPTH)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
		if (yis(ynode(d, p->key), key))
			return ynode(d, p->value);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *v = ynode(d, p->value), *r = NULL, *m;
		yaml_node_item_t *it;
		if (!ymerge(ynode(d, p->key)) || !v)
			continue;
		if (v->type == YAML_MAPPING_NODE && merge_once(d, v, seen) > 0)
			r = map_get_d(d, v, key, depth + 1, seen);
		else if (v->type == YAML_SEQUENCE_NODE)
			for (it = v->data.sequence.items.start; !r && it < v->data.sequence.items.top; it++)
				if ((m = ynode(d, *it)) && merge_once(d, m, seen) > 0)
					r = map_get_d(d, m, key, depth + 1, seen);
		if (r)
			return r;
	}
	return NULL;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	unsigned char *seen = NULL;
	yaml_node_t *r = map_get_d(d, map, key, 0, &seen);
	free(seen);
	return r;
}

/* All distinct keys of a mapping (merges flattened, explicit keys first). */
typedef struct {
	yaml_node_t **k, **v;
	size_t n, cap;
	size_t *tab, tcap; /* hash table of 1 + index in k (0: free), at most half full */
} ypairs;

static size_t key_hash(const yaml_node_t *k)
{
	unsigned long long h = 1469598103934665603ULL; /* FNV-1a */
	size_t i;
	for (i = 0; i < k->data.scalar.length; i++)
		h = (h ^ k->data.scalar.value[i]) * 1099511628211ULL;
	return (size_t)h;
}

/* Append k: v unless the key is already there (the first wins), in constant
 * time: a mapping aliased by many entries would make a scan quadratic. */
static int pairs_add(ypairs *out, yaml_node_t *k, yaml_node_t *v)
{
	size_t i, j, mask;
	if (2 * (out->n + 1) > out->tcap) {
		size_t ncap = out->tcap ? 2 * out->tcap : 16, *nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			return K8S_ENOMEM;
		for (j = 0; j < out->n; j++) {
			for (i = key_hash(out->k[j]) & (ncap - 1); nt[i]; i = (i + 1) & (ncap - 1))
				;
			nt[i] = j + 1;
		}
		free(out->tab);
		out->tab = nt;
		out->tcap = ncap;
	}
	mask = out->tcap - 1;
	for (i = key_hash(k) & mask; out->tab[i]; i = (i + 1) & mask) {
		const yaml_node_t *o = out->k[out->tab[i] - 1];
		if (o->data.scalar.length == k->data.scalar.length &&
		    !memcmp(o->data.scalar.value, k->data.scalar.value, k->data.scalar.length))
			return 0;
	}
	if (out->n == out->cap) {
		size_t ncap = out->cap ? 2 * out->cap : 8;
		yaml_node_t **nk = realloc(out->k, ncap * sizeof(*nk)), **nv;
		if (!nk)
			return K8S_ENOMEM;
		out->k = nk;
		if (!(nv = realloc(out->v, ncap * sizeof(*nv))))
			return K8S_ENOMEM;
		out->v = nv;
		out->cap = ncap;
	}
	out->tab[i] = out->n + 1;
	out->k[out->n] = k;
	out->v[out->n++] = v;
	return 0;
}

static int pairs_walk(yaml_document_t *d, yaml_node_t *map, ypairs *out, int depth, unsigned char **seen)
{
	yaml_node_pair_t *p;
	int pass;
	if (!map || map->type != YAML_MAPPING_NODE || depth > MAX_MERGE_DEPTH)
		return 0;
	for (pass = 0; pass < 2; pass++) {
		for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
			yaml_node_t *k = ynode(d, p->key), *v = ynode(d, p->value);
			int merge = ymerge(k);
			if (pass == 1 && merge && v) {
				yaml_node_item_t *it;
				yaml_node_t *m;
				int once;
				if (v->type == YAML_MAPPING_NODE &&
				    ((once = merge_once(d, v, seen)) < 0 ||
				     (once && pairs_walk(d, v, out, depth + 1, seen) < 0)))
					return K8S_ENOMEM;
				if (v->type == YAML_SEQUENCE_NODE)
					for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
						if ((m = ynode(d, *it)) &&
						    ((once = merge_once(d, m, seen)) < 0 ||
						     (once && pairs_walk(d, m, out, depth + 1, seen) < 0)))
							return K8S_ENOMEM;
			}
			if (pass == 1 || merge || !k || k->type != YAML_SCALAR_NODE)
				continue;
			if (pairs_add(out, k, v) < 0)
				return K8S_ENOMEM;
		}
	}
	return 0;
}

static int pairs_collect(yaml_document_t *d, yaml_node_t *map, ypairs *out)
{
	unsigned char *seen = NULL;
	int rc = pairs_walk(d, map, out, 0, &seen);
	free(seen);
	return rc;
}

static void pairs_free(ypairs *p)
{
	free(p->k);
	free(p->v);
	free(p->tab);
	memset(p, 0, sizeof(*p));
}

static int perr(const pctx *p, const yaml_node_t *n, const char *fmt, ...) K8S_PRINTF(3, 4);
static int perr(const pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ferr(K8S_EINVALID, p->file, p->kind, p->name, yline(n), "%s", msg);
}

/* A string field; null or "" leaves it unset. Non-scalars are an error. */
static int get_str(const pctx *p, yaml_node_t *n, const char *field, char **out)
{
	*out = NULL;
	if (ynull(n))
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return perr(p, n, "%s must be a string", field);
	if (memchr(n->data.scalar.value, 0, n->data.scalar.length))
		return perr(p, n, "%s contains a NUL character", field);
	if (!n->data.scalar.length)
		return 0;
	if (!(*out = k8s__strndup((const char *)n->data.scalar.value, n->data.scalar.length)))
		return k8s__error_oom();
	return 0;
}

static int get_bool(const pctx *p, yaml_node_t *n, const char *field, int *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
	size_t i;
	*out = 0;
	if (ynull(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
			if (yis(n, yes[i])) {
				*out = 1;
				return 0;
			}
			if (yis(n, no[i]))
				return 0;
		}
	}
	return perr(p, n, "%s must be true or false", field);
}

static int get_b64(const pctx *p, yaml_node_t *n, const char *field, k8s_bytes *out)
{
	size_t bad = 0;
	int rc;
	memset(out, 0, sizeof(*out));
	if (ynull(n))
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return perr(p, n, "%s must be a base64 string", field);
	if (!n->data.scalar.length)
		return 0;
	rc = b64_decode((const char *)n->data.scalar.value, n->data.scalar.length, &out->data, &out->len, &bad);
	if (rc == K8S_ENOMEM)
		return k8s__error_oom();
	if (rc < 0)
		return perr(p, n, "%s is not valid base64 (at byte %zu of %zu)", field, bad, n->data.scalar.length);
	out->set = 1;
	return 0;
}

static int get_list(const pctx *p, yaml_node_t *n, const char *field, k8s_strlist *out)
{
	yaml_node_item_t *it;
	if (ynull(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(p, n, "%s must be a list of strings", field);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = ynode(p->doc, *it);
		char *s = NULL;
		int rc;
		if ((rc = get_str(p, v, field, &s)) < 0)
			return rc;
		rc = k8s__strlist_add(out, s ? s : "");
		k8s__sfree(s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A map of strings into flat key/value pairs. */
static int get_strmap(const pctx *p, yaml_node_t *n, const char *field, k8s_strlist *out)
{
	ypairs ps = {0};
	size_t i;
	int rc = 0;
	if (ynull(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return perr(p, n, "%s must be a map of strings", field);
	if (pairs_collect(p->doc, n, &ps) < 0)
		rc = k8s__error_oom();
	for (i = 0; !rc && i < ps.n; i++) {
		char *k = NULL, *v = NULL;
		if ((rc = get_str(p, ps.k[i], field, &k)) < 0 || (rc = get_str(p, ps.v[i], field, &v)) < 0) {
			k8s__sfree(k);
			break;
		}
		if (k && (rc = k8s__strlist_add(out, k)) == 0)
			rc = k8s__strlist_add(out, v ? v : "");
		k8s__sfree(k);
		k8s__sfree(v);
	}
	pairs_free(&ps);
	return rc;
}

/* ---- kubeconfig entries ---- */

typedef struct {
	char *name;
	const char *file;
	char *server, *tls_server_name, *ca_file, *proxy_url;
	k8s_bytes ca_data;
	int insecure, disable_compression;
} kc_cluster;

typedef struct {
	char *name;
	const char *file;
	char *cert_file, *key_file, *token, *token_file, *username, *password;
	k8s_bytes cert_data, key_data;
	char *as, *as_uid;
	k8s_strlist as_groups, as_extra; /* as_extra: key, value pairs (a key per value) */
	size_t as_extra_keys;
	int has_ap;
	char *ap_name;
	k8s_strlist ap_config;
	int has_exec, exec_cluster_info;
	size_t exec_env_noname; /* 1 + index of an env entry without a name */
	char *exec_command, *exec_api, *exec_mode, *exec_hint;
	k8s_strlist exec_args, exec_env;
} kc_user;

typedef struct {
	char *name;
	const char *file;
	char *cluster, *user, *namespace_;
} kc_context;

typedef struct {
	char **files;
	size_t nfiles;
	kc_cluster **clusters;
	size_t ncl;
	kc_user **users;
	size_t nus;
	kc_context **contexts;
	size_t nctx;
	char *current_context;
	const char *cc_file;
} kc_merged;

static void cluster_free(kc_cluster *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->server);
	free(c->tls_server_name);
	free(c->ca_file);
	free(c->proxy_url);
	bytes_free(&c->ca_data);
	free(c);
}

static void user_free(kc_user *u)
{
	if (!u)
		return;
	free(u->name);
	free(u->cert_file);
	free(u->key_file);
	k8s__sfree(u->token);
	free(u->token_file);
	k8s__sfree(u->username);
	k8s__sfree(u->password);
	bytes_free(&u->cert_data);
	bytes_free(&u->key_data);
	free(u->as);
	free(u->as_uid);
	k8s__strlist_free(&u->as_groups);
	k8s__strlist_free(&u->as_extra);
	free(u->ap_name);
	k8s__strlist_wipe(&u->ap_config);
	free(u->exec_command);
	free(u->exec_api);
	free(u->exec_mode);
	free(u->exec_hint);
	k8s__strlist_wipe(&u->exec_args);
	k8s__strlist_wipe(&u->exec_env);
	free(u);
}

static void context_free(kc_context *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->cluster);
	free(c->user);
	free(c->namespace_);
	free(c);
}

static void merged_free(kc_merged *m)
{
	size_t i;
	for (i = 0; i < m->ncl; i++)
		cluster_free(m->clusters[i]);
	for (i = 0; i < m->nus; i++)
		user_free(m->users[i]);
	for (i = 0; i < m->nctx; i++)
		context_free(m->contexts[i]);
	for (i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->clusters);
	free(m->users);
	free(m->contexts);
	free(m->files);
	free(m->current_context);
	memset(m, 0, sizeof(*m));
}

#define FIND_FN(fn, type, arr, cnt)                                       \
	static type *fn(const kc_merged *m, const char *name)              \
	{                                                                  \
		size_t i;                                                  \
		for (i = 0; name && i < m->cnt; i++)                       \
			if (!strcmp(m->arr[i]->name, name))                \
				return m->arr[i];                          \
		return NULL;                                               \
	}
FIND_FN(find_cluster, kc_cluster, clusters, ncl)
FIND_FN(find_user, kc_user, users, nus)
FIND_FN(find_context, kc_context, contexts, nctx)

#define PUSH_FN(fn, type)                                                  \
	static int fn(type ***arr, size_t *n, type *item)                  \
	{                                                                  \
		type **a = realloc(*arr, (*n + 1) * sizeof(*a));           \
		if (!a)                                                    \
			return k8s__error_oom();                           \
		*arr = a;                                                  \
		a[(*n)++] = item;                                          \
		return 0;                                                  \
	}
PUSH_FN(push_cluster, kc_cluster)
PUSH_FN(push_user, kc_user)
PUSH_FN(push_context, kc_context)
PUSH_FN(push_str, char)

#define GET(fn, key, dst)                                                 \
	do {                                                              \
		if ((rc = fn(p, map_get(p->doc, body, key), key, dst)) < 0) \
			return rc;                                        \
	} while (0)

static int resolve_field(char **field, const char *dir)
{
	char *r;
	if (!*field || (*field)[0] == '/')
		return 0;
	if (!(r = resolve_path(dir, *field)))
		return k8s__error_oom();
	free(*field);
	*field = r;
	return 0;
}

static int parse_cluster(const pctx *p, yaml_node_t *body, kc_cluster *c, const char *dir)
{
	int rc;
	if (ynull(body))
		return 0;
	if (body->type != YAML_MAPPING_NODE)
		return perr(p, body, "cluster must be a mapping");
	GET(get_str, "server", &c->server);
	GET(get_str, "tls-server-name", &c->tls_server_name);
	GET(get_bool, "insecure-skip-tls-verify", &c->insecure);
	GET(get_str, "certificate-authority", &c->ca_file);
	GET(get_b64, "certificate-authority-data", &c->ca_data);
	GET(get_str, "proxy-url", &c->proxy_url);
	GET(get_bool, "disable-compression", &c->disable_compression);
	return resolve_field(&c->ca_file, dir);
}

static int parse_exec(const pctx *p, yaml_node_t *body, kc_user *u, const char *dir)
{
	yaml_node_t *env;
	yaml_node_item_t *it;
	int rc;
	if (body->type != YAML_MAPPING_NODE)
		return perr(p, body, "exec must be a mapping");
	u->has_exec = 1;
	GET(get_str, "command", &u->exec_command);
	GET(get_list, "args", &u->exec_args);
	GET(get_str, "apiVersion", &u->exec_api);
	GET(get_str, "installHint", &u->exec_hint);
	GET(get_bool, "provideClusterInfo", &u->exec_cluster_info);
	GET(get_str, "interactiveMode", &u->exec_mode);
	env = map_get(p->doc, body, "env");
	if (!ynull(env)) {
		if (env->type != YAML_SEQUENCE_NODE)
			return perr(p, env, "exec.env must be a list of {name, value}");
		for (it = env->data.sequence.items.start; it < env->data.sequence.items.top; it++) {
			yaml_node_t *e = ynode(p->doc, *it);
			char *name = NULL, *value = NULL;
			if (!e || e->type != YAML_MAPPING_NODE)
				return perr(p, e, "exec.env entries must be {name, value} mappings");
			if ((rc = get_str(p, map_get(p->doc, e, "name"), "exec.env name", &name)) < 0)
				return rc;
			if ((rc = get_str(p, map_get(p->doc, e, "value"), "exec.env value", &value)) < 0) {
				free(name);
				return rc;
			}
			if (!name && !u->exec_env_noname)
				u->exec_env_noname = (size_t)(it - env->data.sequence.items.start) + 1;
			if ((rc = k8s__strlist_add(&u->exec_env, name ? name : "")) == 0)
				rc = k8s__strlist_add(&u->exec_env, value ? value : "");
			free(name);
			k8s__sfree(value);
			if (rc < 0)
				return rc;
		}
	}
	/* clientcmd's v1beta1 (and v1alpha1) default */
	if (!u->exec_mode && u->exec_api &&
	    (!strcmp(u->exec_api, EXEC_V1BETA1) || !strcmp(u->exec_api, "client.authentication.k8s.io/v1alpha1")) &&
	    !(u->exec_mode = k8s__strdup("IfAvailable")))
		return k8s__error_oom();
	if (u->exec_command && strchr(u->exec_command, '/'))
		return resolve_field(&u->exec_command, dir);
	return 0;
}

static int parse_user(const pctx *p, yaml_node_t *body, kc_user *u, const char *dir)
{
	yaml_node_t *n;
	int rc;
	if (ynull(body))
		return 0;
	if (body->type != YAML_MAPPING_NODE)
		return perr(p, body, "user must be a mapping");
	GET(get_str, "client-certificate", &u->cert_file);
	GET(get_b64, "client-certificate-data", &u->cert_data);
	GET(get_str, "client-key", &u->key_file);
	GET(get_b64, "client-key-data", &u->key_data);
	GET(get_str, "token", &u->token);
	GET(get_str, "tokenFile", &u->token_file);
	GET(get_str, "as", &u->as);
	GET(get_str, "as-uid", &u->as_uid);
	GET(get_list, "as-groups", &u->as_groups);
	GET(get_str, "username", &u->username);
	GET(get_str, "password", &u->password);

	n = map_get(p->doc, body, "as-user-extra");
	if (!ynull(n)) {
		ypairs ps = {0};
		size_t i;
		if (n->type != YAML_MAPPING_NODE)
			return perr(p, n, "as-user-extra must be a map of string lists");
		if (pairs_collect(p->doc, n, &ps) < 0) {
			pairs_free(&ps);
			return k8s__error_oom();
		}
		for (i = 0, rc = 0; !rc && i < ps.n; i++) {
			k8s_strlist vals = {0};
			char *k = NULL;
			size_t j;
			if ((rc = get_str(p, ps.k[i], "as-user-extra", &k)) == 0 &&
			    (rc = get_list(p, ps.v[i], "as-user-extra values", &vals)) == 0 && k) {
				u->as_extra_keys++;
				for (j = 0; !rc && j < vals.n; j++)
					if ((rc = k8s__strlist_add(&u->as_extra, k)) == 0)
						rc = k8s__strlist_add(&u->as_extra, vals.items[j]);
			}
			free(k);
			k8s__strlist_free(&vals);
		}
		pairs_free(&ps);
		if (rc < 0)
			return rc;
	}

	n = map_get(p->doc, body, "auth-provider");
	if (!ynull(n)) {
		if (n->type != YAML_MAPPING_NODE)
			return perr(p, n, "auth-provider must be a mapping");
		u->has_ap = 1;
		if ((rc = get_str(p, map_get(p->doc, n, "name"), "auth-provider.name", &u->ap_name)) < 0 ||
		    (rc = get_strmap(p, map_get(p->doc, n, "config"), "auth-provider.config", &u->ap_config)) < 0)
			return rc;
	}
	n = map_get(p->doc, body, "exec");
	if (!ynull(n) && (rc = parse_exec(p, n, u, dir)) < 0)
		return rc;

	if ((rc = resolve_field(&u->cert_file, dir)) < 0 || (rc = resolve_field(&u->key_file, dir)) < 0)
		return rc;
	return resolve_field(&u->token_file, dir);
}

static int parse_context(const pctx *p, yaml_node_t *body, kc_context *c)
{
	int rc;
	if (ynull(body))
		return 0;
	if (body->type != YAML_MAPPING_NODE)
		return perr(p, body, "context must be a mapping");
	GET(get_str, "cluster", &c->cluster);
	GET(get_str, "user", &c->user);
	GET(get_str, "namespace", &c->namespace_);
	return 0;
}

enum { K_CLUSTER, K_USER, K_CONTEXT };
static const char *const kind_names[] = {"cluster", "user", "context"};
static const char *const section_names[] = {"clusters", "users", "contexts"};

static int same_scalar(const yaml_node_t *a, const yaml_node_t *b)
{
	return a && b && a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
	       a->data.scalar.length == b->data.scalar.length &&
	       !memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length);
}

static int parse_section(kc_merged *m, yaml_document_t *d, const char *file, const char *dir,
			 yaml_node_t *seq, int kind)
{
	pctx top = {d, file, NULL, NULL};
	yaml_node_item_t *it, *jt;
	int rc;
	if (ynull(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return perr(&top, seq, "%s must be a list", section_names[kind]);
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *item = ynode(d, *it), *nn;
		char *name = NULL;
		pctx p = top;
		void *entry;
		if (!item || item->type != YAML_MAPPING_NODE)
			return perr(&top, item, "%s entries must be mappings with a name and a %s",
				    section_names[kind], kind_names[kind]);
		nn = map_get(d, item, "name");
		if ((rc = get_str(&top, nn, "name", &name)) < 0)
			return rc;
		if (!name)
			continue; /* cannot be referenced */
		for (jt = seq->data.sequence.items.start; jt < it; jt++)
			if (same_scalar(map_get(d, ynode(d, *jt), "name"), nn)) {
				rc = perr(&top, nn, "duplicate %s name \"%s\" in %s", kind_names[kind], name,
					  section_names[kind]);
				free(name);
				return rc;
			}
		p.kind = kind_names[kind];
		p.name = name;
		entry = calloc(1, kind == K_CLUSTER ? sizeof(kc_cluster) : kind == K_USER ? sizeof(kc_user)
											       : sizeof(kc_context));
		if (!entry) {
			free(name);
			return k8s__error_oom();
		}
		if (kind == K_CLUSTER) {
			kc_cluster *c = entry;
			c->name = name;
			c->file = file;
			rc = parse_cluster(&p, map_get(d, item, "cluster"), c, dir);
			if (rc < 0 || find_cluster(m, name))
				cluster_free(c);
			else if ((rc = push_cluster(&m->clusters, &m->ncl, c)) < 0)
				cluster_free(c);
		} else if (kind == K_USER) {
			kc_user *u = entry;
			u->name = name;
			u->file = file;
			rc = parse_user(&p, map_get(d, item, "user"), u, dir);
			if (rc < 0 || find_user(m, name))
				user_free(u);
			else if ((rc = push_user(&m->users, &m->nus, u)) < 0)
				user_free(u);
		} else {
			kc_context *c = entry;
			c->name = name;
			c->file = file;
			rc = parse_context(&p, map_get(d, item, "context"), c);
			if (rc < 0 || find_context(m, name))
				context_free(c);
			else if ((rc = push_context(&m->contexts, &m->nctx, c)) < 0)
				context_free(c);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_doc_error(yaml_parser_t *parser, const char *file)
{
	const char *problem = parser->problem ? parser->problem : "parse error";
	if (parser->error == YAML_MEMORY_ERROR)
		return k8s__error_oom();
	if (parser->error == YAML_READER_ERROR)
		return ferr(K8S_EINVALID, file, NULL, NULL, 0, "not valid YAML or JSON: byte %zu: %s",
			    parser->problem_offset, problem);
	return ferr(K8S_EINVALID, file, NULL, NULL, 0, "not valid YAML or JSON: line %zu, column %zu: %s%s%s",
		    parser->problem_mark.line + 1, parser->problem_mark.column + 1, problem,
		    parser->context ? " " : "", parser->context ? parser->context : "");
}

/* Load one file into the merge. A missing file is skipped (0, not added). */
static int load_file(kc_merged *m, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	char *data = NULL, *dir = NULL, *fname;
	size_t len;
	int rc, e;

	if ((e = slurp(path, &data, &len)) == -ENOENT)
		return 0;
	if (e < 0)
		return ferr(errno_code(-e), path, NULL, NULL, 0, "cannot read the file: %s", strerror(-e));
	if (!(fname = k8s__strdup(path)) || push_str(&m->files, &m->nfiles, fname) < 0) {
		free(fname);
		wipe_free(data, len);
		return k8s__error_oom();
	}
	errno = 0;
	if (!(dir = abs_dir(path))) {
		e = errno;
		wipe_free(data, len);
		if (!e || e == ENOMEM)
			return k8s__error_oom();
		return ferr(K8S_ERROR, path, NULL, NULL, 0, "cannot determine the absolute directory: %s", strerror(e));
	}
	if (!yaml_parser_initialize(&parser)) {
		free(dir);
		wipe_free(data, len);
		return k8s__error_oom();
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = parse_doc_error(&parser, fname);
		yaml_parser_delete(&parser);
		free(dir);
		wipe_free(data, len);
		return rc;
	}
	rc = 0;
	root = yaml_document_get_root_node(&doc);
	if (root && !ynull(root)) {
		pctx top = {&doc, fname, NULL, NULL};
		if (root->type != YAML_MAPPING_NODE) {
			rc = perr(&top, root, "not a kubeconfig: the top level must be a mapping");
		} else {
			char *cc = NULL;
			rc = get_str(&top, map_get(&doc, root, "current-context"), "current-context", &cc);
			if (rc == 0 && cc && !m->current_context) {
				m->current_context = cc;
				m->cc_file = fname;
				cc = NULL;
			}
			free(cc);
			if (rc == 0)
				rc = parse_section(m, &doc, fname, dir, map_get(&doc, root, "clusters"), K_CLUSTER);
			if (rc == 0)
				rc = parse_section(m, &doc, fname, dir, map_get(&doc, root, "users"), K_USER);
			if (rc == 0)
				rc = parse_section(m, &doc, fname, dir, map_get(&doc, root, "contexts"), K_CONTEXT);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(dir);
	wipe_free(data, len);
	return rc;
}

/* ClientConfigLoadingRules.Load */
static int load_files(kc_merged *m, const char *explicit_path, int default_rules)
{
	struct stat st;
	if (!empty(explicit_path)) {
		if (stat(explicit_path, &st) < 0 && errno == ENOENT)
			return ferr(K8S_ENOTFOUND, explicit_path, NULL, NULL, 0, "the kubeconfig file does not exist");
		return load_file(m, explicit_path);
	}
	if (!default_rules)
		return 0;
	if (!empty(getenv("KUBECONFIG"))) {
		char *list = k8s__strdup(getenv("KUBECONFIG")), *save = NULL, *tok;
		char **seen = NULL;
		size_t nseen = 0, i;
		int rc = 0;
		if (!list)
			return k8s__error_oom();
		for (tok = strtok_r(list, ":", &save); tok && !rc; tok = strtok_r(NULL, ":", &save)) {
			for (i = 0; i < nseen && strcmp(seen[i], tok); i++)
				;
			if (i < nseen)
				continue;
			if ((rc = push_str(&seen, &nseen, tok)) == 0)
				rc = load_file(m, tok);
		}
		free(seen);
		free(list);
		return rc;
	}
	if (!empty(getenv("HOME"))) {
		k8s_buf b = K8S_BUF_INIT;
		int rc;
		if (k8s_buf_printf(&b, "%s/.kube/config", getenv("HOME")) < 0)
			return K8S_ENOMEM;
		rc = load_file(m, b.ptr);
		k8s_buf_free(&b);
		return rc;
	}
	return 0;
}

/* ---- validation ---- */

/* -1 invalid (why set), 0 http / bare host:port, 1 https. */
static int check_hostport(const char *h, const char *end, const char **why)
{
	const char *at, *p, *colon = NULL;
	for (at = end; at > h && at[-1] != '@'; at--)
		;
	h = at;
	if (h == end) {
		*why = "the host is empty";
		return -1;
	}
	if (*h == '[') {
		if (!(p = memchr(h, ']', (size_t)(end - h))) || p == h + 1) {
			*why = "an IPv6 address is missing its closing ']'";
			return -1;
		}
		p++;
		if (p < end && *p != ':') {
			*why = "unexpected characters after the IPv6 address";
			return -1;
		}
		colon = p < end ? p : NULL;
	} else {
		for (p = h; p < end; p++)
			if (*p == ':') {
				if (colon) {
					*why = "an IPv6 address must be written in brackets";
					return -1;
				}
				colon = p;
			}
		if (colon == h) {
			*why = "the host is empty";
			return -1;
		}
	}
	if (colon)
		for (p = colon + 1; p < end; p++)
			if (*p < '0' || *p > '9') {
				*why = "the port is not a number";
				return -1;
			}
	return 0;
}

static int server_kind(const char *s, const char **why)
{
	const char *p, *host;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			*why = "it contains whitespace or a control character";
			return -1;
		}
	if ((p = strstr(s, "://")) != NULL) {
		size_t sl = (size_t)(p - s);
		int https;
		if (sl == 5 && !strncasecmp(s, "https", 5))
			https = 1;
		else if (sl == 4 && !strncasecmp(s, "http", 4))
			https = 0;
		else {
			*why = "the scheme must be http or https";
			return -1;
		}
		host = p + 3;
		if (check_hostport(host, host + strcspn(host, "/?#"), why) < 0)
			return -1;
		return https;
	}
	if (s[strcspn(s, "/?#")]) {
		*why = "a host:port without a scheme cannot carry a path";
		return -1;
	}
	return check_hostport(s, s + strlen(s), why);
}

static int proxy_ok(const char *s, const char **why)
{
	const char *p = strstr(s, "://"), *host;
	size_t sl = p ? (size_t)(p - s) : 0;
	if (!p || !((sl == 4 && !strncasecmp(s, "http", 4)) || (sl == 5 && !strncasecmp(s, "https", 5)) ||
		    (sl == 6 && !strncasecmp(s, "socks5", 6)))) {
		*why = "unsupported scheme, must be http, https, or socks5";
		return 0;
	}
	host = p + 3;
	return check_hostport(host, host + strcspn(host, "/?#"), why) == 0;
}

static int dns_label_ok(const char *s)
{
	size_t i, n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int check_readable(const char *file, const char *kind, const char *name, const char *field,
			  const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return ferr(errno_code(e), file, kind, name, 0, "%s file %s cannot be read: %s", field, path,
			    strerror(e));
	}
	close(fd);
	return 0;
}

static int validate_cluster(const kc_cluster *c)
{
	const char *why = NULL;
	if (c->ca_file && c->ca_data.set)
		return ferr(K8S_EINVALID, c->file, "cluster", c->name, 0,
			    "certificate-authority and certificate-authority-data are both set");
	if (c->ca_file) {
		int rc = check_readable(c->file, "cluster", c->name, "certificate-authority", c->ca_file);
		if (rc < 0)
			return rc;
	}
	if (c->proxy_url && !proxy_ok(c->proxy_url, &why))
		return ferr(K8S_EINVALID, c->file, "cluster", c->name, 0, "proxy-url is invalid: %s", why);
	return 0;
}

static int validate_user(const kc_user *u)
{
#define UERR(...) ferr(K8S_EINVALID, u->file, "user", u->name, 0, __VA_ARGS__)
	const char *cert = u->cert_file ? "client-certificate" : "client-certificate-data";
	const char *key = u->key_file ? "client-key" : "client-key-data";
	int has_cert = u->cert_file || u->cert_data.set, has_key = u->key_file || u->key_data.set, rc;

	if (u->cert_file && u->cert_data.set)
		return UERR("client-certificate and client-certificate-data are both set");
	if (u->key_file && u->key_data.set)
		return UERR("client-key and client-key-data are both set");
	if (has_cert && !has_key)
		return UERR("%s is set but client-key is not", cert);
	if (has_key && !has_cert)
		return UERR("%s is set but client-certificate is not", key);
	if (u->cert_file && (rc = check_readable(u->file, "user", u->name, "client-certificate", u->cert_file)) < 0)
		return rc;
	if (u->key_file && (rc = check_readable(u->file, "user", u->name, "client-key", u->key_file)) < 0)
		return rc;
	if ((u->token || u->token_file) && (u->username || u->password))
		return UERR("%s and username/password are both set; only one authentication method is allowed",
			    u->token ? "token" : "tokenFile");
	if (u->has_exec) {
		const char *m = u->exec_mode;
		if (u->has_ap)
			return UERR("exec and auth-provider are both set; only one may be used");
		if (!u->exec_command)
			return UERR("exec.command is not set");
		if (!u->exec_api)
			return UERR("exec.apiVersion is not set");
		if (strcmp(u->exec_api, EXEC_V1) && strcmp(u->exec_api, EXEC_V1BETA1))
			return UERR("exec.apiVersion \"%s\" is not supported (%s or %s)", u->exec_api, EXEC_V1,
				    EXEC_V1BETA1);
		if (u->exec_env_noname)
			return UERR("exec.env[%zu].name is not set", u->exec_env_noname - 1);
		if (!m)
			return UERR("exec.interactiveMode is not set; it is required by %s (Never, IfAvailable or Always)",
				    u->exec_api);
		if (strcmp(m, "Never") && strcmp(m, "IfAvailable") && strcmp(m, "Always"))
			return UERR("exec.interactiveMode \"%s\" is invalid (Never, IfAvailable or Always)", m);
	}
	if (u->has_ap && !u->ap_name)
		return UERR("auth-provider.name is not set");
	if (!u->as && (u->as_uid || u->as_groups.n || u->as_extra_keys))
		return UERR("%s is set but as is not (impersonating a uid, groups or extra requires a user)",
			    u->as_uid ? "as-uid" : u->as_groups.n ? "as-groups" : "as-user-extra");
	return 0;
#undef UERR
}

/* ---- building the rest config ---- */

static void file_list(const kc_merged *m, char *buf, size_t size)
{
	size_t i, w = 0;
	buf[0] = 0;
	if (!m->nfiles) {
		snprintf(buf, size, "no kubeconfig file was loaded");
		return;
	}
	w = (size_t)snprintf(buf, size, "kubeconfig ");
	for (i = 0; i < m->nfiles && w < size; i++)
		w += (size_t)snprintf(buf + w, size - w, "%s%s", i ? ":" : "", m->files[i]);
}

static char *clean_hint(const char *s)
{
	k8s_buf b = K8S_BUF_INIT;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int rc = (c < 0x20 && !(c >= 0x09 && c <= 0x0d)) || c == 0x7f ? k8s_buf_printf(&b, "U+%04X", c)
									 : k8s_buf_put(&b, s, 1);
		if (rc < 0) {
			k8s_buf_free(&b);
			return NULL;
		}
	}
	if (!b.ptr && k8s_buf_put(&b, "", 0) < 0)
		return NULL;
	return k8s_buf_detach(&b);
}

#define TRY(x)                      \
	do {                        \
		if ((rc = (x)) < 0) \
			goto fail;  \
	} while (0)

static int add_pairs(k8s_config *cfg, const char *field, const k8s_strlist *l)
{
	size_t i;
	int rc;
	for (i = 0; i + 1 < l->n; i += 2)
		if ((rc = k8s_config_add_pair(cfg, field, l->items[i], l->items[i + 1])) < 0)
			return rc;
	return 0;
}

static int apply_user(k8s_config *cfg, const kc_user *u)
{
	size_t i;
	int rc = 0;
	if (u->token) {
		TRY(k8s_config_set_string(cfg, "BearerToken", u->token));
		if (u->token_file)
			TRY(k8s_config_set_string(cfg, "BearerTokenFile", u->token_file));
	} else if (u->token_file) {
		char *data, *tok;
		size_t len;
		int e = slurp(u->token_file, &data, &len);
		if (e < 0)
			return ferr(errno_code(-e), u->file, "user", u->name, 0, "tokenFile %s cannot be read: %s",
				    u->token_file, strerror(-e));
		tok = trim_dup(data, len);
		wipe_free(data, len);
		if (!tok)
			return k8s__error_oom();
		rc = *tok ? k8s_config_set_string(cfg, "BearerToken", tok) : 0;
		k8s__sfree(tok);
		TRY(rc);
		TRY(k8s_config_set_string(cfg, "BearerTokenFile", u->token_file));
	}
	if (u->cert_file || u->cert_data.set) {
		if (u->cert_file)
			TRY(k8s_config_set_string(cfg, "TLSClientConfig.CertFile", u->cert_file));
		if (u->cert_data.set)
			TRY(k8s_config_set_bytes(cfg, "TLSClientConfig.CertData", u->cert_data.data, u->cert_data.len));
		if (u->key_file)
			TRY(k8s_config_set_string(cfg, "TLSClientConfig.KeyFile", u->key_file));
		if (u->key_data.set)
			TRY(k8s_config_set_bytes(cfg, "TLSClientConfig.KeyData", u->key_data.data, u->key_data.len));
	}
	if (u->username || u->password) {
		if (u->username)
			TRY(k8s_config_set_string(cfg, "Username", u->username));
		if (u->password)
			TRY(k8s_config_set_string(cfg, "Password", u->password));
	}
	if (u->has_ap) {
		TRY(k8s_config_set_string(cfg, "AuthProvider.Name", u->ap_name));
		TRY(add_pairs(cfg, "AuthProvider.Config", &u->ap_config));
	}
	if (u->has_exec) {
		TRY(k8s_config_set_string(cfg, "ExecProvider.Command", u->exec_command));
		for (i = 0; i < u->exec_args.n; i++)
			TRY(k8s_config_add_string(cfg, "ExecProvider.Args", u->exec_args.items[i]));
		TRY(add_pairs(cfg, "ExecProvider.Env", &u->exec_env));
		TRY(k8s_config_set_string(cfg, "ExecProvider.APIVersion", u->exec_api));
		TRY(k8s_config_set_string(cfg, "ExecProvider.InteractiveMode", u->exec_mode));
		if (u->exec_hint) {
			char *h = clean_hint(u->exec_hint);
			if (!h)
				return k8s__error_oom();
			rc = k8s_config_set_string(cfg, "ExecProvider.InstallHint", h);
			free(h);
			TRY(rc);
		}
		if (u->exec_cluster_info)
			TRY(k8s_config_set_bool(cfg, "ExecProvider.ProvideClusterInfo", 1));
	}
fail:
	return rc;
}

static int fill_info(k8s_clientcmd_info *info, const kc_merged *m, const char *ctx, const char *cluster,
		     const char *user, const char *user_file, const char *ns, int in_cluster)
{
	size_t i;
	if (!info)
		return 0;
	info->in_cluster = in_cluster;
	if ((ctx && !(info->context = k8s__strdup(ctx))) || (cluster && !(info->cluster = k8s__strdup(cluster))) ||
	    (user && !(info->user = k8s__strdup(user))) ||
	    (user_file && !(info->user_file = k8s__strdup(user_file))) ||
	    (ns && !(info->namespace_ = k8s__strdup(ns))))
		goto oom;
	if (m->nfiles && !(info->files = calloc(m->nfiles, sizeof(char *))))
		goto oom;
	for (i = 0; i < m->nfiles; i++, info->nfiles++)
		if (!(info->files[i] = k8s__strdup(m->files[i])))
			goto oom;
	return 0;
oom:
	k8s_clientcmd_info_free(info);
	return k8s__error_oom();
}

static const char *sa_dir(void)
{
	const char *d = getenv("K8S_LUA_SERVICEACCOUNT_DIR");
	return empty(d) ? SA_DIR_DEFAULT : d;
}

/* inClusterClientConfig.Possible */
static int in_cluster_possible(void)
{
	k8s_buf b = K8S_BUF_INIT;
	struct stat st;
	int ok;
	if (empty(getenv("KUBERNETES_SERVICE_HOST")) || empty(getenv("KUBERNETES_SERVICE_PORT")))
		return 0;
	if (k8s_buf_printf(&b, "%s/token", sa_dir()) < 0)
		return 0;
	ok = stat(b.ptr, &st) == 0 && !S_ISDIR(st.st_mode);
	k8s_buf_free(&b);
	return ok;
}

static int build(k8s_config **out, k8s_clientcmd_info *info, const kc_merged *m, const k8s_config_overrides *ov)
{
	const char *ctx_name = !empty(ov->context) ? ov->context : m->current_context;
	const char *cl_name, *us_name, *server, *ns, *why = NULL;
	kc_context *ctx = NULL;
	kc_cluster *cl = NULL;
	kc_user *us = NULL;
	k8s_config *cfg = NULL;
	char files[512];
	int https, rc = 0;
	size_t i;

	file_list(m, files, sizeof(files));
	if (!empty(ctx_name) && !(ctx = find_context(m, ctx_name))) {
		if (!empty(ov->context))
			return ferr(K8S_ENOTFOUND, NULL, NULL, NULL, 0, "context \"%s\" not found in %s", ctx_name, files);
		return ferr(K8S_ENOTFOUND, m->cc_file, NULL, NULL, 0, "current-context: context \"%s\" not found",
			    ctx_name);
	}
	cl_name = !empty(ov->cluster) ? ov->cluster : ctx ? ctx->cluster : NULL;
	if (!empty(cl_name) && !(cl = find_cluster(m, cl_name))) {
		if (!empty(ov->cluster))
			return ferr(K8S_ENOTFOUND, NULL, NULL, NULL, 0, "cluster \"%s\" not found in %s", cl_name, files);
		return ferr(K8S_ENOTFOUND, ctx->file, NULL, NULL, 0, "cluster \"%s\" referenced by context \"%s\" not found",
			    cl_name, ctx->name);
	}
	us_name = !empty(ov->user) ? ov->user : ctx ? ctx->user : NULL;
	if (!empty(us_name) && !(us = find_user(m, us_name))) {
		if (!empty(ov->user))
			return ferr(K8S_ENOTFOUND, NULL, NULL, NULL, 0, "user \"%s\" not found in %s", us_name, files);
		return ferr(K8S_ENOTFOUND, ctx->file, NULL, NULL, 0, "user \"%s\" referenced by context \"%s\" not found",
			    us_name, ctx->name);
	}
	server = !empty(ov->server) ? ov->server : cl ? cl->server : NULL;
	if (!server) {
		if (cl)
			return ferr(K8S_EINVALID, cl->file, "cluster", cl->name, 0, "server is not set");
		if (ctx)
			return ferr(K8S_EINVALID, ctx->file, "context", ctx->name, 0, "cluster is not set");
		if (in_cluster_possible()) {
			const char *icns;
			if ((rc = k8s_clientcmd_in_cluster_config(&cfg)) < 0)
				return rc;
			if (!empty(ov->namespace_))
				TRY(k8s_config_set_string(cfg, "Namespace", ov->namespace_));
			icns = k8s_config_get_string(cfg, "Namespace");
			TRY(fill_info(info, m, NULL, NULL, NULL, NULL, icns, 1));
			*out = cfg;
			return 0;
		}
		return k8s__error(K8S_EINVALID, "EmptyConfig", ERR_EMPTY_CONFIG);
	}
	if ((https = server_kind(server, &why)) < 0) {
		int show = !strchr(server, '@');
		if (!empty(ov->server))
			return ferr(K8S_EINVALID, NULL, NULL, NULL, 0, "server override %s%s%sis not a valid URL: %s",
				    show ? "\"" : "", show ? server : "", show ? "\" " : "", why);
		return ferr(K8S_EINVALID, cl->file, "cluster", cl->name, 0, "server %s%s%sis not a valid URL: %s",
			    show ? "\"" : "", show ? server : "", show ? "\" " : "", why);
	}
	if (cl && (rc = validate_cluster(cl)) < 0)
		return rc;
	if (us && (rc = validate_user(us)) < 0)
		return rc;
	ns = !empty(ov->namespace_) ? ov->namespace_ : ctx && ctx->namespace_ ? ctx->namespace_ : "default";
	if (!dns_label_ok(ns)) {
		if (!empty(ov->namespace_))
			return ferr(K8S_EINVALID, NULL, NULL, NULL, 0,
				    "namespace override \"%s\" does not conform to the kubernetes DNS_LABEL rules", ns);
		return ferr(K8S_EINVALID, ctx->file, "context", ctx->name, 0,
			    "namespace \"%s\" does not conform to the kubernetes DNS_LABEL rules", ns);
	}
	if (https && cl && cl->insecure && (cl->ca_file || cl->ca_data.set))
		return ferr(K8S_EINVALID, cl->file, "cluster", cl->name, 0,
			    "insecure-skip-tls-verify cannot be combined with %s",
			    cl->ca_file ? "certificate-authority" : "certificate-authority-data");

	if ((rc = k8s_config_new(&cfg)) < 0)
		return rc;
	{
		/* drop the query and fragment of a URL with a path, as clientcmd does */
		char *host = k8s__strdup(server), *path;
		if (!host)
			TRY(k8s__error_oom());
		if (strstr(host, "://") && (path = strchr(strstr(host, "://") + 3, '/')) && path[1] &&
		    path[1] != '?' && path[1] != '#')
			path[strcspn(path, "?#")] = 0;
		rc = k8s_config_set_string(cfg, "Host", host);
		free(host);
		TRY(rc);
	}
	if (cl && cl->proxy_url)
		TRY(k8s_config_set_string(cfg, "Proxy", cl->proxy_url));
	if (cl && cl->disable_compression)
		TRY(k8s_config_set_bool(cfg, "DisableCompression", 1));
	if (us && us->as) {
		TRY(k8s_config_set_string(cfg, "Impersonate.UserName", us->as));
		if (us->as_uid)
			TRY(k8s_config_set_string(cfg, "Impersonate.UID", us->as_uid));
		for (i = 0; i < us->as_groups.n; i++)
			TRY(k8s_config_add_string(cfg, "Impersonate.Groups", us->as_groups.items[i]));
		TRY(add_pairs(cfg, "Impersonate.Extra", &us->as_extra));
	}
	TRY(k8s_config_set_string(cfg, "Namespace", ns));
	if (https) {
		if (us)
			TRY(apply_user(cfg, us));
		if (cl) {
			if (cl->ca_file)
				TRY(k8s_config_set_string(cfg, "TLSClientConfig.CAFile", cl->ca_file));
			if (cl->ca_data.set)
				TRY(k8s_config_set_bytes(cfg, "TLSClientConfig.CAData", cl->ca_data.data, cl->ca_data.len));
			if (cl->insecure)
				TRY(k8s_config_set_bool(cfg, "TLSClientConfig.Insecure", 1));
			/* a --server override clears the kubeconfig's tls-server-name */
			if (cl->tls_server_name && empty(ov->server))
				TRY(k8s_config_set_string(cfg, "TLSClientConfig.ServerName", cl->tls_server_name));
		}
	}
	TRY(fill_info(info, m, ctx ? ctx->name : NULL, cl_name, us_name, us ? us->file : NULL, ns, 0));
	*out = cfg;
	return 0;
fail:
	k8s_config_free(cfg);
	return rc;
}

static int load_internal(k8s_config **out, k8s_clientcmd_info *info, const k8s_config_overrides *ov,
			 int default_rules)
{
	static const k8s_config_overrides none = K8S_CONFIG_OVERRIDES_INIT;
	kc_merged m;
	int rc;
	if (!out)
		return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: out must not be NULL");
	*out = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	if (!ov)
		ov = &none;
	memset(&m, 0, sizeof(m));
	if ((rc = load_files(&m, ov->kubeconfig, default_rules)) == 0)
		rc = build(out, info, &m, ov);
	merged_free(&m);
	return rc;
}

/* ---- public API ---- */

void k8s_clientcmd_info_free(k8s_clientcmd_info *info)
{
	size_t i;
	if (!info)
		return;
	free(info->context);
	free(info->cluster);
	free(info->user);
	free(info->user_file);
	free(info->namespace_);
	for (i = 0; i < info->nfiles; i++)
		free(info->files[i]);
	free(info->files);
	memset(info, 0, sizeof(*info));
}

int k8s_clientcmd_load_ex(k8s_config **out, k8s_clientcmd_info *info, const k8s_config_overrides *ov)
{
	return load_internal(out, info, ov, 1);
}

int k8s_clientcmd_load(k8s_config **out, const k8s_config_overrides *ov)
{
	return load_internal(out, NULL, ov, 1);
}

int k8s_clientcmd_build_config_from_flags(k8s_config **out, const char *master_url, const char *kubeconfig_path)
{
	return k8s_clientcmd_build_config_from_flags_ex(out, NULL, master_url, kubeconfig_path);
}

int k8s_clientcmd_build_config_from_flags_ex(k8s_config **out, k8s_clientcmd_info *info, const char *master_url,
					     const char *kubeconfig_path)
{
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	if (!out)
		return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: out must not be NULL");
	if (empty(master_url) && empty(kubeconfig_path)) {
		int rc = k8s_clientcmd_in_cluster_config(out);
		if (rc == 0 && info)
			info->in_cluster = 1;
		if (rc == 0 || rc == K8S_ENOMEM)
			return rc;
	}
	/* client-go uses ClientConfigLoadingRules{ExplicitPath: kubeconfigPath}
	 * with no precedence list, so it never reads $KUBECONFIG or
	 * ~/.kube/config. Our contract (API.md) is the more useful one: without
	 * a path, the default loading rules apply. */
	ov.server = master_url;
	ov.kubeconfig = kubeconfig_path;
	return load_internal(out, info, &ov, 1);
}

int k8s_clientcmd_in_cluster_config(k8s_config **out)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = sa_dir(), *pod_ns = getenv("POD_NAMESPACE");
	k8s_buf path = K8S_BUF_INIT, url = K8S_BUF_INIT;
	k8s_config *cfg = NULL;
	char *data = NULL, *token = NULL, *ns = NULL;
	size_t len = 0;
	int rc, e;

	if (!out)
		return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: out must not be NULL");
	*out = NULL;
	if (empty(host) || empty(port))
		return k8s__error(K8S_ENOTFOUND, "NotInCluster", ERR_NOT_IN_CLUSTER);
	TRY(k8s_buf_printf(&path, "%s/token", dir));
	if ((e = slurp(path.ptr, &data, &len)) < 0) {
		rc = k8s__error(errno_code(-e), reason_for(errno_code(-e)),
				"unable to load in-cluster configuration: service account token %s: %s", path.ptr,
				strerror(-e));
		goto fail;
	}
	token = trim_dup(data, len);
	wipe_free(data, len);
	data = NULL;
	if (!token)
		TRY(k8s__error_oom());
	TRY(k8s_config_new(&cfg));
	TRY(k8s_buf_printf(&url, strchr(host, ':') && host[0] != '[' ? "https://[%s]:%s" : "https://%s:%s", host,
			   port));
	TRY(k8s_config_set_string(cfg, "Host", url.ptr));
	if (*token)
		TRY(k8s_config_set_string(cfg, "BearerToken", token));
	TRY(k8s_config_set_string(cfg, "BearerTokenFile", path.ptr));

	path.len = 0;
	TRY(k8s_buf_printf(&path, "%s/ca.crt", dir));
	if (slurp(path.ptr, &data, &len) == 0 && memmem(data, len, "-----BEGIN CERTIFICATE-----", 27))
		TRY(k8s_config_set_string(cfg, "TLSClientConfig.CAFile", path.ptr));
	free(data);
	data = NULL;

	if (!empty(pod_ns)) {
		TRY(k8s_config_set_string(cfg, "Namespace", pod_ns));
	} else {
		path.len = 0;
		TRY(k8s_buf_printf(&path, "%s/namespace", dir));
		if (slurp(path.ptr, &data, &len) == 0 && !(ns = trim_dup(data, len)))
			TRY(k8s__error_oom());
		TRY(k8s_config_set_string(cfg, "Namespace", !empty(ns) ? ns : "default"));
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
fail:
	free(data);
	free(ns);
	k8s__sfree(token);
	k8s_buf_free(&path);
	k8s_buf_free(&url);
	k8s_config_free(cfg);
	return rc;
}

/* ---- persisting auth-provider config ---- */

static int emit_write(void *ud, unsigned char *buf, size_t size)
{
	return k8s_buf_put(ud, buf, size) == 0;
}

/* Plain only where no YAML 1.1 reader could take the value for a non-string. */
static yaml_scalar_style_t style_for(const char *s, int quote)
{
	static const char *const words[] = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"};
	size_t i;
	if (quote || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' || s[0] == '/'))
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("_./=+-", c)))
			return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	}
	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (!strcasecmp(s, words[i]))
			return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return YAML_PLAIN_SCALAR_STYLE;
}

static int node_id(yaml_document_t *d, yaml_node_t *n)
{
	return (int)(n - d->nodes.start) + 1;
}

/* Point user's auth-provider.config at a new mapping holding kv. */
static int rewrite_doc(yaml_document_t *d, const char *file, const char *user, const char *const *kv,
		       size_t npairs)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *users, *ap = NULL, *n;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	int ap_id, map_id, cfg_pair = -1, flow;
	size_t i, j;

	if (!root || root->type != YAML_MAPPING_NODE)
		return ferr(K8S_EINVALID, file, NULL, NULL, 0, "not a kubeconfig: the top level must be a mapping");
	users = map_get(d, root, "users");
	if (users && users->type == YAML_SEQUENCE_NODE)
		for (it = users->data.sequence.items.start; it < users->data.sequence.items.top; it++) {
			yaml_node_t *item = ynode(d, *it);
			if (yis(map_get(d, item, "name"), user)) {
				if (!(ap = map_get(d, map_get(d, item, "user"), "auth-provider")) ||
				    ap->type != YAML_MAPPING_NODE)
					return ferr(K8S_ENOTFOUND, file, "user", user, 0, "auth-provider is not set");
				break;
			}
		}
	if (!ap)
		return ferr(K8S_ENOTFOUND, file, NULL, NULL, 0, "user \"%s\" not found", user);
	ap_id = node_id(d, ap);
	flow = ap->data.mapping.style == YAML_FLOW_MAPPING_STYLE; /* e.g. a JSON file: keep it JSON */
	/* the first `config` key: the one the loader reads (map_get) */
	for (p = ap->data.mapping.pairs.start; cfg_pair < 0 && p < ap->data.mapping.pairs.top; p++)
		if (yis(ynode(d, p->key), "config"))
			cfg_pair = (int)(p - ap->data.mapping.pairs.start);

	if (!(map_id = yaml_document_add_mapping(d, NULL, YAML_BLOCK_MAPPING_STYLE)))
		return k8s__error_oom();
	for (i = 0; i < npairs; i++) {
		const char *k = kv[2 * i], *v = kv[2 * i + 1];
		int kid, vid;
		for (j = i + 1; j < npairs && strcmp(kv[2 * j], k); j++)
			;
		if (j < npairs)
			continue; /* a later pair sets this key */
		if (!(kid = yaml_document_add_scalar(d, NULL, (yaml_char_t *)k, -1, style_for(k, flow))) ||
		    !(vid = yaml_document_add_scalar(d, NULL, (yaml_char_t *)v, -1, style_for(v, flow))) ||
		    !yaml_document_append_mapping_pair(d, map_id, kid, vid))
			return k8s__error_oom();
	}
	if (npairs == 0 && (n = ynode(d, map_id)) != NULL)
		n->data.mapping.style = YAML_FLOW_MAPPING_STYLE; /* "config: {}" */
	ap = ynode(d, ap_id); /* the node array may have moved */
	if (cfg_pair >= 0) {
		ap->data.mapping.pairs.start[cfg_pair].value = map_id;
	} else {
		int kid = yaml_document_add_scalar(d, NULL, (yaml_char_t *)"config", -1, style_for("config", flow));
		if (!kid || !yaml_document_append_mapping_pair(d, ap_id, kid, map_id))
			return k8s__error_oom();
	}
	return 0;
}

/* target is absolute (realpath). */
static int write_atomic(const char *target, const char *data, size_t len, const struct stat *st)
{
	const char *slash = strrchr(target, '/');
	char *dir = k8s__strndup(target, slash == target ? 1 : (size_t)(slash - target));
	k8s_buf tmp = K8S_BUF_INIT;
	size_t off = 0;
	int fd, dfd, e = 0;

	if (!dir || k8s_buf_printf(&tmp, "%s%s.%s.tmp-XXXXXX", dir, slash == target ? "" : "/", slash + 1) < 0) {
		free(dir);
		k8s_buf_free(&tmp);
		return k8s__error_oom();
	}
	if ((fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0) {
		e = errno;
		free(dir);
		k8s_buf_free(&tmp);
		return ferr(K8S_ERROR, target, NULL, NULL, 0, "cannot create a temporary file: %s", strerror(e));
	}
	if (fchown(fd, st->st_uid, st->st_gid) != 0) {
		/* only permitted when privileged; the new file then stays ours */
	}
	if (fchmod(fd, st->st_mode & 07777) != 0)
		e = errno;
	while (!e && off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno != EINTR)
			e = errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp.ptr, target) != 0)
		e = errno;
	if (e)
		unlink(tmp.ptr);
	else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(dfd) != 0) {
			/* the rename is done; a failed directory sync is not reported */
		}
		close(dfd);
	}
	free(dir);
	k8s_buf_free(&tmp);
	if (e)
		return ferr(K8S_ERROR, target, NULL, NULL, 0, "cannot write: %s", strerror(e));
	return 0;
}

/* Strict UTF-8 (no overlong form, surrogate or code point past U+10FFFF):
 * libyaml refuses to add other text to a document, and would emit a
 * surrogate as an escape that no YAML reader accepts. */
static int utf8_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		unsigned c = *s, cp, min, n, i;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

int k8s_clientcmd_persist_auth_provider(const char *file, const char *user, const char *const *kv, size_t npairs)
{
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	yaml_document_t *docs = NULL;
	size_t ndocs = 0, dumped = 0, i, len = 0;
	k8s_buf lock = K8S_BUF_INIT, outb = K8S_BUF_INIT;
	char *target = NULL, *data = NULL;
	struct stat st;
	int rc = 0, e, lfd, parser_ok = 0, emitter_ok = 0;

	if (empty(file) || empty(user) || (npairs && !kv))
		return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: persist needs a file, a user and key/value pairs");
	for (i = 0; i < 2 * npairs; i++)
		if (!kv[i])
			return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: persist: key/value %zu is NULL", i);
		else if (!utf8_ok(kv[i]))
			return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: persist: key/value %zu is not valid UTF-8", i);
	if (!(target = realpath(file, NULL))) {
		e = errno;
		return ferr(errno_code(e), file, NULL, NULL, 0, "cannot resolve the path: %s", strerror(e));
	}
	if (k8s_buf_printf(&lock, "%s.lock", file) < 0) {
		free(target);
		return K8S_ENOMEM;
	}
	if ((lfd = open(lock.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		e = errno;
		rc = ferr(K8S_ERROR, file, NULL, NULL, 0, "cannot lock %s: %s", lock.ptr, strerror(e));
		k8s_buf_free(&lock);
		free(target);
		return rc;
	}
	close(lfd);

	e = stat(target, &st) != 0 ? errno : -slurp(target, &data, &len);
	if (e) {
		rc = ferr(errno_code(e), file, NULL, NULL, 0, "cannot read the file: %s", strerror(e));
		goto done;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = k8s__error_oom();
		goto done;
	}
	parser_ok = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	for (;;) {
		yaml_document_t *nd = realloc(docs, (ndocs + 1) * sizeof(*docs));
		if (!nd) {
			rc = k8s__error_oom();
			goto done;
		}
		docs = nd;
		if (!yaml_parser_load(&parser, &docs[ndocs])) {
			rc = parse_doc_error(&parser, file);
			goto done;
		}
		if (!yaml_document_get_root_node(&docs[ndocs])) {
			yaml_document_delete(&docs[ndocs]);
			break;
		}
		ndocs++;
	}
	if (!ndocs) {
		rc = ferr(K8S_ENOTFOUND, file, NULL, NULL, 0, "user \"%s\" not found (the file is empty)", user);
		goto done;
	}
	if ((rc = rewrite_doc(&docs[0], file, user, kv, npairs)) < 0)
		goto done;

	if (!yaml_emitter_initialize(&emitter)) {
		rc = k8s__error_oom();
		goto done;
	}
	emitter_ok = 1;
	yaml_emitter_set_output(&emitter, emit_write, &outb);
	yaml_emitter_set_unicode(&emitter, 1);
	yaml_emitter_set_width(&emitter, -1);
	if (!yaml_emitter_open(&emitter))
		goto emit_error;
	for (; dumped < ndocs; dumped++)
		if (!yaml_emitter_dump(&emitter, &docs[dumped])) {
			dumped++; /* dump deletes the document even when it fails */
			goto emit_error;
		}
	if (!yaml_emitter_close(&emitter))
		goto emit_error;
	rc = write_atomic(target, outb.ptr ? outb.ptr : "", outb.len, &st);
	goto done;
emit_error:
	rc = emitter.error == YAML_MEMORY_ERROR ? k8s__error_oom()
						: ferr(K8S_ERROR, file, NULL, NULL, 0, "cannot re-emit the file: %s",
						       emitter.problem ? emitter.problem : "emitter error");
done:
	for (i = dumped; i < ndocs; i++)
		yaml_document_delete(&docs[i]);
	free(docs);
	if (emitter_ok)
		yaml_emitter_delete(&emitter);
	if (parser_ok)
		yaml_parser_delete(&parser);
	if (outb.ptr)
		wipe_free(outb.ptr, outb.cap);
	wipe_free(data, len);
	unlink(lock.ptr);
	k8s_buf_free(&lock);
	free(target);
	return rc;
}
