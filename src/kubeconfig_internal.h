/* The kubeconfig model shared by the clientcmd files: kubeconfig_api.c (the
 * model), kubeconfig_load.c, kubeconfig_merge.c, kubeconfig_validate.c,
 * kubeconfig_client_config.c, kubeconfig_persist.c and incluster.c. Not
 * installed. */
#ifndef K8S_KUBECONFIG_INTERNAL_H
#define K8S_KUBECONFIG_INTERNAL_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "config_internal.h"
#include "k8s/clientcmd.h"

#define MAX_FILE_SIZE (16u << 20)
#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

#define TRY(x)                      \
	do {                        \
		if ((rc = (x)) < 0) \
			goto fail;  \
	} while (0)

/* ---- small helpers (here, and in kubeconfig_api.c) ---- */

static inline int empty(const char *s)
{
	return !s || !*s;
}

static inline void wipe_free(char *p, size_t n)
{
	k8s__wipe(p, n);
	free(p);
}

static inline int errno_code(int e)
{
	return e == ENOENT ? K8S_ENOTFOUND : e == ENOMEM ? K8S_ENOMEM : K8S_ERROR;
}

/* Read a whole file, NUL-terminated. Returns 0 or -errno. */
static inline int slurp(const char *path, char **data, size_t *len)
{
	return k8s__read_file(path, MAX_FILE_SIZE, data, len);
}

const char *k8s__kc_reason_for(int code);
/* "kubeconfig FILE: KIND "NAME": message (line N)"; never given a secret. */
int k8s__kc_ferr(int code, const char *file, const char *kind, const char *name, int line, const char *fmt, ...)
	K8S_PRINTF(6, 7);
char *k8s__kc_trim_dup(const char *s, size_t n);

/* ---- the YAML document model (kubeconfig_api.c) ---- */

typedef struct {
	yaml_document_t *doc;
	const char *file;
	const char *kind; /* "cluster", "user", "context", or NULL */
	const char *name;
} pctx;

static inline yaml_node_t *ynode(yaml_document_t *d, int id)
{
	return id ? yaml_document_get_node(d, id) : NULL;
}

static inline int yis(const yaml_node_t *n, const char *s)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

static inline int ynull(const yaml_node_t *n)
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

/* A mapping's value for key, following `<<` merge keys (explicit keys win). */
yaml_node_t *k8s__kc_map_get(yaml_document_t *d, yaml_node_t *map, const char *key);
/* An error at node n of the document ("... (line N)"). */
int k8s__kc_perr(const pctx *p, const yaml_node_t *n, const char *fmt, ...) K8S_PRINTF(3, 4);
/* A string field; null or "" leaves it unset. Non-scalars are an error. */
int k8s__kc_get_str(const pctx *p, yaml_node_t *n, const char *field, char **out);
/* The error of a failed yaml_parser_load (kubeconfig_load.c). */
int k8s__kc_parse_doc_error(yaml_parser_t *parser, const char *file);

/* ---- kubeconfig entries (kubeconfig_api.c) ---- */

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

void k8s__kc_cluster_free(kc_cluster *c);
void k8s__kc_user_free(kc_user *u);
void k8s__kc_context_free(kc_context *c);
void k8s__kc_merged_free(kc_merged *m);
kc_cluster *k8s__kc_find_cluster(const kc_merged *m, const char *name);
kc_user *k8s__kc_find_user(const kc_merged *m, const char *name);
kc_context *k8s__kc_find_context(const kc_merged *m, const char *name);
int k8s__kc_push_cluster(kc_cluster ***arr, size_t *n, kc_cluster *item);
int k8s__kc_push_user(kc_user ***arr, size_t *n, kc_user *item);
int k8s__kc_push_context(kc_context ***arr, size_t *n, kc_context *item);
int k8s__kc_push_str(char ***arr, size_t *n, char *item);
/* An entry's body (null: nothing set); relative paths resolve against dir. */
int k8s__kc_parse_cluster(const pctx *p, yaml_node_t *body, kc_cluster *c, const char *dir);
int k8s__kc_parse_user(const pctx *p, yaml_node_t *body, kc_user *u, const char *dir);
int k8s__kc_parse_context(const pctx *p, yaml_node_t *body, kc_context *c);

/* ---- loading and merging (kubeconfig_load.c, kubeconfig_merge.c) ---- */

/* ClientConfigLoadingRules.Load */
int k8s__kc_load_files(kc_merged *m, const char *explicit_path, int default_rules);
/* Add the document of file fname (in m->files; dir: its absolute directory). */
int k8s__kc_merge_doc(kc_merged *m, yaml_document_t *doc, const char *fname, const char *dir);

/* ---- validation (kubeconfig_validate.c) ---- */

/* The server URL: -1 invalid (why set), 0 http / bare host:port, 1 https. */
int k8s__kc_server_kind(const char *s, const char **why);
int k8s__kc_dns_label_ok(const char *s);
int k8s__kc_validate_cluster(const kc_cluster *c);
int k8s__kc_validate_user(const kc_user *u);

/* ---- in-cluster config (incluster.c) ---- */

/* inClusterClientConfig.Possible */
int k8s__kc_in_cluster_possible(void);

#endif
