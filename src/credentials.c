/* Credentials (client-go's transport config): the bearer token from the exec
 * plugin, the token callback or BearerTokenFile, the Authorization header
 * (Bearer or Basic) and the Impersonate-* headers. The request engine
 * (call.c) decides when they are obtained and refreshed. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "credentials.h"

/* ---- the bearer token ---- */

/* Read BearerTokenFile: trimmed contents, or NULL with an error. */
static char *read_token_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	k8s_buf b = K8S_BUF_INIT;
	char chunk[4096];
	size_t n, s = 0, e;
	char *tok;
	if (!f) {
		k8s__error(K8S_EAUTH, "TokenFileError", "cannot read BearerTokenFile %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (k8s_buf_put(&b, chunk, n) < 0) {
			fclose(f);
			k8s_buf_free(&b);
			return NULL;
		}
	}
	fclose(f);
	k8s__wipe(chunk, sizeof(chunk));
	e = b.len;
	while (s < e && isspace((unsigned char)b.ptr[s]))
		s++;
	while (e > s && isspace((unsigned char)b.ptr[e - 1]))
		e--;
	if (e == s) {
		k8s_buf_wipe_free(&b);
		k8s__error(K8S_EAUTH, "TokenFileError", "BearerTokenFile %s is empty", path);
		return NULL;
	}
	tok = k8s__strndup(b.ptr + s, e - s);
	k8s_buf_wipe_free(&b);
	return tok;
}

/* The exec plugin's credential: the cached one while valid, or the one this
 * call's own run returned (used even if already expired, as client-go).
 * The plugin's cache may be shared with clients on other threads: call with
 * k8s__payload_lock(cfg->exec_payload) held, and copy what you need. */
const k8s_credential *k8s__exec_cred(k8s_rest_client *c, int ran)
{
	const k8s_credential *cred = NULL;
	if (!c->cfg->exec_payload)
		return NULL;
	if (k8s__exec_provider_cached(c->cfg->exec_payload->ptr, 0, &cred) == 1)
		return cred;
	return ran ? k8s__exec_provider_last(c->cfg->exec_payload->ptr) : NULL;
}

/* The callback's token cache is shared by the clients made from one config,
 * possibly on other threads: it is read and written under its lock. */
int k8s__token_valid(k8s_rest_client *c)
{
	return k8s__payload_token_valid(c->cfg->token_payload, k8s__wall_now());
}

/* The bearer token to send, or NULL for none; <0 on a credential failure.
 * Plugin and callback credentials were obtained by the EXEC/TOKEN steps;
 * they live in caches other threads may refresh, so they are copied into
 * *owned (the caller wipes and frees it after use; *tok points into it). */
static int current_token(k8s_rest_client *c, int exec_ran, const char *cb_token, const char **tok, char **owned)
{
	k8s_config *cfg = c->cfg;
	int rc;
	*tok = NULL;
	*owned = NULL;
	if (cfg->exec_payload) {
		const k8s_credential *cred;
		k8s__payload_lock(cfg->exec_payload);
		cred = k8s__exec_cred(c, exec_ran);
		rc = cred && cred->token && *cred->token && !(*owned = k8s__strdup(cred->token)) ? K8S_ENOMEM : 0;
		k8s__payload_unlock(cfg->exec_payload);
		if (rc < 0)
			return k8s__error_oom();
		if (*owned) {
			*tok = *owned;
			return 0;
		}
	}
	if (cfg->token_cb) {
		if (cb_token && *cb_token) {
			if (!(*owned = k8s__strdup(cb_token)))
				return k8s__error_oom();
			*tok = *owned;
			return 0;
		}
		if ((rc = k8s__payload_token_get(cfg->token_payload, owned)) < 0)
			return rc;
		if (*owned && **owned) {
			*tok = *owned;
			return 0;
		}
		k8s__sfree(*owned);
		*owned = NULL;
	}
	if (cfg->f[F_TOKENFILE].s && *cfg->f[F_TOKENFILE].s) {
		double now = k8s__now();
		if (!c->file_token || now - c->file_token_at >= c->file_token_period) {
			char *t = read_token_file(cfg->f[F_TOKENFILE].s);
			if (t) {
				k8s__sfree(c->file_token);
				c->file_token = t;
				c->file_token_at = now;
			} else if (!c->file_token && !(cfg->f[F_TOKEN].s && *cfg->f[F_TOKEN].s)) {
				return K8S_EAUTH;
			} else {
				k8s__debug(c, 2, "BearerTokenFile could not be re-read; keeping the last good token");
			}
		}
		if (c->file_token) {
			*tok = c->file_token;
			return 0;
		}
	}
	if (cfg->f[F_TOKEN].s && *cfg->f[F_TOKEN].s)
		*tok = cfg->f[F_TOKEN].s;
	return 0;
}

/* ---- headers ---- */

int k8s__auth_header(k8s_rest_client *c, int exec_ran, const char *cb_token, k8s__header_add add, void *ctx)
{
	k8s_config *cfg = c->cfg;
	const char *tok;
	char *owned;
	int rc;

	if ((rc = current_token(c, exec_ran, cb_token, &tok, &owned)) < 0)
		return rc;
	if (tok) {
		k8s_buf b = K8S_BUF_INIT;
		rc = k8s_buf_printf(&b, "Bearer %s", tok);
		k8s__sfree(owned);
		if (rc < 0) {
			k8s_buf_wipe_free(&b);
			return K8S_ENOMEM;
		}
		rc = add(ctx, "Authorization", b.ptr);
		k8s_buf_wipe_free(&b);
		if (rc < 0)
			return rc;
	} else if (cfg->f[F_USERNAME].s || cfg->f[F_PASSWORD].s) {
		k8s_buf up = K8S_BUF_INIT, b = K8S_BUF_INIT;
		if (k8s_buf_printf(&up, "%s:%s", cfg->f[F_USERNAME].s ? cfg->f[F_USERNAME].s : "",
				   cfg->f[F_PASSWORD].s ? cfg->f[F_PASSWORD].s : "") < 0 ||
		    k8s_buf_puts(&b, "Basic ") < 0 || k8s__base64_encode(&b, up.ptr, up.len) < 0) {
			k8s_buf_wipe_free(&up);
			k8s_buf_wipe_free(&b);
			return K8S_ENOMEM;
		}
		rc = add(ctx, "Authorization", b.ptr);
		k8s_buf_wipe_free(&up);
		k8s_buf_wipe_free(&b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Impersonate-Extra-<key>: the key is percent-escaped (legal header chars kept). */
static int extra_header(k8s__header_add add, void *ctx, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	k8s_buf b = K8S_BUF_INIT;
	const unsigned char *p;
	int rc;
	if (k8s_buf_puts(&b, "Impersonate-Extra-") < 0)
		return K8S_ENOMEM;
	for (p = (const unsigned char *)key; *p; p++) {
		if (isalnum(*p) || strchr("!#$&'*+-.^_`|~", *p)) {
			if (k8s_buf_put(&b, p, 1) < 0)
				goto oom;
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			if (k8s_buf_put(&b, e, 3) < 0)
				goto oom;
		}
	}
	rc = add(ctx, b.ptr, value);
	k8s_buf_free(&b);
	return rc;
oom:
	k8s_buf_free(&b);
	return K8S_ENOMEM;
}

int k8s__impersonate_headers(const k8s_config *cfg, k8s__header_add add, void *ctx)
{
	size_t i;
	int rc;

	if (cfg->f[F_IMP_USER].s && *cfg->f[F_IMP_USER].s) {
		const k8s_strlist *g = &cfg->f[F_IMP_GROUPS].list, *x = &cfg->f[F_IMP_EXTRA].list;
		if ((rc = add(ctx, "Impersonate-User", cfg->f[F_IMP_USER].s)) < 0)
			return rc;
		if (cfg->f[F_IMP_UID].s && *cfg->f[F_IMP_UID].s && (rc = add(ctx, "Impersonate-Uid", cfg->f[F_IMP_UID].s)) < 0)
			return rc;
		for (i = 0; i < g->n; i++)
			if ((rc = add(ctx, "Impersonate-Group", g->items[i])) < 0)
				return rc;
		for (i = 0; i + 1 < x->n; i += 2)
			if ((rc = extra_header(add, ctx, x->items[i], x->items[i + 1])) < 0)
				return rc;
	}
	return 0;
}
