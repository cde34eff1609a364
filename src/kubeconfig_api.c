/* The kubeconfig model of tools/clientcmd (its api package): the error helper
 * the kubeconfig files share (messages that name the file, the entry and the
 * line), the libyaml document model (one for YAML and JSON: lookups that
 * follow `<<` merge keys, typed fields), and the cluster, user and context
 * entries: decoding one from its mapping (relative paths resolved against the
 * directory of its file), freeing, finding by name. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kubeconfig_internal.h"

#define MAX_MERGE_DEPTH 16

/* ---- small helpers ---- */

static void bytes_free(k8s_bytes *b)
{
	wipe_free(b->data, b->len);
	memset(b, 0, sizeof(*b));
}

const char *k8s__kc_reason_for(int code)
{
	switch (code) {
	case K8S_ENOTFOUND: return "NotFound";
	case K8S_ENOMEM: return "OutOfMemory";
	case K8S_EINVALID: return "Invalid";
	default: return "IOError";
	}
}

/* "kubeconfig FILE: KIND "NAME": message (line N)"; never given a secret. */
int k8s__kc_ferr(int code, const char *file, const char *kind, const char *name, int line, const char *fmt, ...)
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
		return k8s__error(code, k8s__kc_reason_for(code), "kubeconfig %s: %s%s%s", file, entry, msg, where);
	return k8s__error(code, k8s__kc_reason_for(code), "%s%s%s", entry, msg, where);
}

char *k8s__kc_trim_dup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return k8s__strndup(s, n);
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

static int yline(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
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

yaml_node_t *k8s__kc_map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
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

int k8s__kc_perr(const pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return k8s__kc_ferr(K8S_EINVALID, p->file, p->kind, p->name, yline(n), "%s", msg);
}

/* A string field; null or "" leaves it unset. Non-scalars are an error. */
int k8s__kc_get_str(const pctx *p, yaml_node_t *n, const char *field, char **out)
{
	*out = NULL;
	if (ynull(n))
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return k8s__kc_perr(p, n, "%s must be a string", field);
	if (memchr(n->data.scalar.value, 0, n->data.scalar.length))
		return k8s__kc_perr(p, n, "%s contains a NUL character", field);
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
	return k8s__kc_perr(p, n, "%s must be true or false", field);
}

static int get_b64(const pctx *p, yaml_node_t *n, const char *field, k8s_bytes *out)
{
	size_t bad = 0;
	int rc;
	memset(out, 0, sizeof(*out));
	if (ynull(n))
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return k8s__kc_perr(p, n, "%s must be a base64 string", field);
	if (!n->data.scalar.length)
		return 0;
	rc = b64_decode((const char *)n->data.scalar.value, n->data.scalar.length, &out->data, &out->len, &bad);
	if (rc == K8S_ENOMEM)
		return k8s__error_oom();
	if (rc < 0)
		return k8s__kc_perr(p, n, "%s is not valid base64 (at byte %zu of %zu)", field, bad, n->data.scalar.length);
	out->set = 1;
	return 0;
}

static int get_list(const pctx *p, yaml_node_t *n, const char *field, k8s_strlist *out)
{
	yaml_node_item_t *it;
	if (ynull(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return k8s__kc_perr(p, n, "%s must be a list of strings", field);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = ynode(p->doc, *it);
		char *s = NULL;
		int rc;
		if ((rc = k8s__kc_get_str(p, v, field, &s)) < 0)
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
		return k8s__kc_perr(p, n, "%s must be a map of strings", field);
	if (pairs_collect(p->doc, n, &ps) < 0)
		rc = k8s__error_oom();
	for (i = 0; !rc && i < ps.n; i++) {
		char *k = NULL, *v = NULL;
		if ((rc = k8s__kc_get_str(p, ps.k[i], field, &k)) < 0 || (rc = k8s__kc_get_str(p, ps.v[i], field, &v)) < 0) {
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

void k8s__kc_cluster_free(kc_cluster *c)
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

void k8s__kc_user_free(kc_user *u)
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

void k8s__kc_context_free(kc_context *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->cluster);
	free(c->user);
	free(c->namespace_);
	free(c);
}

void k8s__kc_merged_free(kc_merged *m)
{
	size_t i;
	for (i = 0; i < m->ncl; i++)
		k8s__kc_cluster_free(m->clusters[i]);
	for (i = 0; i < m->nus; i++)
		k8s__kc_user_free(m->users[i]);
	for (i = 0; i < m->nctx; i++)
		k8s__kc_context_free(m->contexts[i]);
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
	type *fn(const kc_merged *m, const char *name)                     \
	{                                                                  \
		size_t i;                                                  \
		for (i = 0; name && i < m->cnt; i++)                       \
			if (!strcmp(m->arr[i]->name, name))                \
				return m->arr[i];                          \
		return NULL;                                               \
	}
FIND_FN(k8s__kc_find_cluster, kc_cluster, clusters, ncl)
FIND_FN(k8s__kc_find_user, kc_user, users, nus)
FIND_FN(k8s__kc_find_context, kc_context, contexts, nctx)

#define PUSH_FN(fn, type)                                                  \
	int fn(type ***arr, size_t *n, type *item)                         \
	{                                                                  \
		type **a = realloc(*arr, (*n + 1) * sizeof(*a));           \
		if (!a)                                                    \
			return k8s__error_oom();                           \
		*arr = a;                                                  \
		a[(*n)++] = item;                                          \
		return 0;                                                  \
	}
PUSH_FN(k8s__kc_push_cluster, kc_cluster)
PUSH_FN(k8s__kc_push_user, kc_user)
PUSH_FN(k8s__kc_push_context, kc_context)
PUSH_FN(k8s__kc_push_str, char)

#define GET(fn, key, dst)                                                           \
	do {                                                                        \
		if ((rc = fn(p, k8s__kc_map_get(p->doc, body, key), key, dst)) < 0) \
			return rc;                                                  \
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

int k8s__kc_parse_cluster(const pctx *p, yaml_node_t *body, kc_cluster *c, const char *dir)
{
	int rc;
	if (ynull(body))
		return 0;
	if (body->type != YAML_MAPPING_NODE)
		return k8s__kc_perr(p, body, "cluster must be a mapping");
	GET(k8s__kc_get_str, "server", &c->server);
	GET(k8s__kc_get_str, "tls-server-name", &c->tls_server_name);
	GET(get_bool, "insecure-skip-tls-verify", &c->insecure);
	GET(k8s__kc_get_str, "certificate-authority", &c->ca_file);
	GET(get_b64, "certificate-authority-data", &c->ca_data);
	GET(k8s__kc_get_str, "proxy-url", &c->proxy_url);
	GET(get_bool, "disable-compression", &c->disable_compression);
	return resolve_field(&c->ca_file, dir);
}

static int parse_exec(const pctx *p, yaml_node_t *body, kc_user *u, const char *dir)
{
	yaml_node_t *env;
	yaml_node_item_t *it;
	int rc;
	if (body->type != YAML_MAPPING_NODE)
		return k8s__kc_perr(p, body, "exec must be a mapping");
	u->has_exec = 1;
	GET(k8s__kc_get_str, "command", &u->exec_command);
	GET(get_list, "args", &u->exec_args);
	GET(k8s__kc_get_str, "apiVersion", &u->exec_api);
	GET(k8s__kc_get_str, "installHint", &u->exec_hint);
	GET(get_bool, "provideClusterInfo", &u->exec_cluster_info);
	GET(k8s__kc_get_str, "interactiveMode", &u->exec_mode);
	env = k8s__kc_map_get(p->doc, body, "env");
	if (!ynull(env)) {
		if (env->type != YAML_SEQUENCE_NODE)
			return k8s__kc_perr(p, env, "exec.env must be a list of {name, value}");
		for (it = env->data.sequence.items.start; it < env->data.sequence.items.top; it++) {
			yaml_node_t *e = ynode(p->doc, *it);
			char *name = NULL, *value = NULL;
			if (!e || e->type != YAML_MAPPING_NODE)
				return k8s__kc_perr(p, e, "exec.env entries must be {name, value} mappings");
			if ((rc = k8s__kc_get_str(p, k8s__kc_map_get(p->doc, e, "name"), "exec.env name", &name)) < 0)
				return rc;
			if ((rc = k8s__kc_get_str(p, k8s__kc_map_get(p->doc, e, "value"), "exec.env value", &value)) < 0) {
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

int k8s__kc_parse_user(const pctx *p, yaml_node_t *body, kc_user *u, const char *dir)
{
	yaml_node_t *n;
	int rc;
	if (ynull(body))
		return 0;
	if (body->type != YAML_MAPPING_NODE)
		return k8s__kc_perr(p, body, "user must be a mapping");
	GET(k8s__kc_get_str, "client-certificate", &u->cert_file);
	GET(get_b64, "client-certificate-data", &u->cert_data);
	GET(k8s__kc_get_str, "client-key", &u->key_file);
	GET(get_b64, "client-key-data", &u->key_data);
	GET(k8s__kc_get_str, "token", &u->token);
	GET(k8s__kc_get_str, "tokenFile", &u->token_file);
	GET(k8s__kc_get_str, "as", &u->as);
	GET(k8s__kc_get_str, "as-uid", &u->as_uid);
	GET(get_list, "as-groups", &u->as_groups);
	GET(k8s__kc_get_str, "username", &u->username);
	GET(k8s__kc_get_str, "password", &u->password);

	n = k8s__kc_map_get(p->doc, body, "as-user-extra");
	if (!ynull(n)) {
		ypairs ps = {0};
		size_t i;
		if (n->type != YAML_MAPPING_NODE)
			return k8s__kc_perr(p, n, "as-user-extra must be a map of string lists");
		if (pairs_collect(p->doc, n, &ps) < 0) {
			pairs_free(&ps);
			return k8s__error_oom();
		}
		for (i = 0, rc = 0; !rc && i < ps.n; i++) {
			k8s_strlist vals = {0};
			char *k = NULL;
			size_t j;
			if ((rc = k8s__kc_get_str(p, ps.k[i], "as-user-extra", &k)) == 0 &&
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

	n = k8s__kc_map_get(p->doc, body, "auth-provider");
	if (!ynull(n)) {
		if (n->type != YAML_MAPPING_NODE)
			return k8s__kc_perr(p, n, "auth-provider must be a mapping");
		u->has_ap = 1;
		if ((rc = k8s__kc_get_str(p, k8s__kc_map_get(p->doc, n, "name"), "auth-provider.name", &u->ap_name)) < 0 ||
		    (rc = get_strmap(p, k8s__kc_map_get(p->doc, n, "config"), "auth-provider.config", &u->ap_config)) < 0)
			return rc;
	}
	n = k8s__kc_map_get(p->doc, body, "exec");
	if (!ynull(n) && (rc = parse_exec(p, n, u, dir)) < 0)
		return rc;

	if ((rc = resolve_field(&u->cert_file, dir)) < 0 || (rc = resolve_field(&u->key_file, dir)) < 0)
		return rc;
	return resolve_field(&u->token_file, dir);
}

int k8s__kc_parse_context(const pctx *p, yaml_node_t *body, kc_context *c)
{
	int rc;
	if (ynull(body))
		return 0;
	if (body->type != YAML_MAPPING_NODE)
		return k8s__kc_perr(p, body, "context must be a mapping");
	GET(k8s__kc_get_str, "cluster", &c->cluster);
	GET(k8s__kc_get_str, "user", &c->user);
	GET(k8s__kc_get_str, "namespace", &c->namespace_);
	return 0;
}
