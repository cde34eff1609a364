/* clientcmd's DirectClientConfig: a k8s_config from the merged kubeconfig and
 * the overrides (context, cluster, user, server, namespace), or the in-cluster
 * config when nothing names a context, a cluster or a server; the public
 * loaders and BuildConfigFromFlags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kubeconfig_internal.h"

#define ERR_EMPTY_CONFIG "invalid configuration: no configuration has been provided"

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
			return k8s__kc_ferr(errno_code(-e), u->file, "user", u->name, 0, "tokenFile %s cannot be read: %s",
					    u->token_file, strerror(-e));
		tok = k8s__kc_trim_dup(data, len);
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
	if (!empty(ctx_name) && !(ctx = k8s__kc_find_context(m, ctx_name))) {
		if (!empty(ov->context))
			return k8s__kc_ferr(K8S_ENOTFOUND, NULL, NULL, NULL, 0, "context \"%s\" not found in %s", ctx_name, files);
		return k8s__kc_ferr(K8S_ENOTFOUND, m->cc_file, NULL, NULL, 0, "current-context: context \"%s\" not found",
				    ctx_name);
	}
	cl_name = !empty(ov->cluster) ? ov->cluster : ctx ? ctx->cluster : NULL;
	if (!empty(cl_name) && !(cl = k8s__kc_find_cluster(m, cl_name))) {
		if (!empty(ov->cluster))
			return k8s__kc_ferr(K8S_ENOTFOUND, NULL, NULL, NULL, 0, "cluster \"%s\" not found in %s", cl_name, files);
		return k8s__kc_ferr(K8S_ENOTFOUND, ctx->file, NULL, NULL, 0, "cluster \"%s\" referenced by context \"%s\" not found",
				    cl_name, ctx->name);
	}
	us_name = !empty(ov->user) ? ov->user : ctx ? ctx->user : NULL;
	if (!empty(us_name) && !(us = k8s__kc_find_user(m, us_name))) {
		if (!empty(ov->user))
			return k8s__kc_ferr(K8S_ENOTFOUND, NULL, NULL, NULL, 0, "user \"%s\" not found in %s", us_name, files);
		return k8s__kc_ferr(K8S_ENOTFOUND, ctx->file, NULL, NULL, 0, "user \"%s\" referenced by context \"%s\" not found",
				    us_name, ctx->name);
	}
	server = !empty(ov->server) ? ov->server : cl ? cl->server : NULL;
	if (!server) {
		if (cl)
			return k8s__kc_ferr(K8S_EINVALID, cl->file, "cluster", cl->name, 0, "server is not set");
		if (ctx)
			return k8s__kc_ferr(K8S_EINVALID, ctx->file, "context", ctx->name, 0, "cluster is not set");
		if (k8s__kc_in_cluster_possible()) {
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
	if ((https = k8s__kc_server_kind(server, &why)) < 0) {
		int show = !strchr(server, '@');
		if (!empty(ov->server))
			return k8s__kc_ferr(K8S_EINVALID, NULL, NULL, NULL, 0, "server override %s%s%sis not a valid URL: %s",
					    show ? "\"" : "", show ? server : "", show ? "\" " : "", why);
		return k8s__kc_ferr(K8S_EINVALID, cl->file, "cluster", cl->name, 0, "server %s%s%sis not a valid URL: %s",
				    show ? "\"" : "", show ? server : "", show ? "\" " : "", why);
	}
	if (cl && (rc = k8s__kc_validate_cluster(cl)) < 0)
		return rc;
	if (us && (rc = k8s__kc_validate_user(us)) < 0)
		return rc;
	ns = !empty(ov->namespace_) ? ov->namespace_ : ctx && ctx->namespace_ ? ctx->namespace_ : "default";
	if (!k8s__kc_dns_label_ok(ns)) {
		if (!empty(ov->namespace_))
			return k8s__kc_ferr(K8S_EINVALID, NULL, NULL, NULL, 0,
					    "namespace override \"%s\" does not conform to the kubernetes DNS_LABEL rules", ns);
		return k8s__kc_ferr(K8S_EINVALID, ctx->file, "context", ctx->name, 0,
				    "namespace \"%s\" does not conform to the kubernetes DNS_LABEL rules", ns);
	}
	if (https && cl && cl->insecure && (cl->ca_file || cl->ca_data.set))
		return k8s__kc_ferr(K8S_EINVALID, cl->file, "cluster", cl->name, 0,
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
	if ((rc = k8s__kc_load_files(&m, ov->kubeconfig, default_rules)) == 0)
		rc = build(out, info, &m, ov);
	k8s__kc_merged_free(&m);
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
