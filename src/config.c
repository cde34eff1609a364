#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include "config_internal.h"

static const struct {
	const char *name;
	k8s_field_type type;
} fields[F_COUNT] = {
	[F_HOST] = {"Host", K8S_FIELD_STRING},
	[F_APIPATH] = {"APIPath", K8S_FIELD_STRING},
	[F_GROUPVERSION] = {"ContentConfig.GroupVersion", K8S_FIELD_STRING},
	[F_ACCEPT] = {"ContentConfig.AcceptContentTypes", K8S_FIELD_STRING},
	[F_CONTENTTYPE] = {"ContentConfig.ContentType", K8S_FIELD_STRING},
	[F_USERNAME] = {"Username", K8S_FIELD_STRING},
	[F_PASSWORD] = {"Password", K8S_FIELD_STRING},
	[F_TOKEN] = {"BearerToken", K8S_FIELD_STRING},
	[F_TOKENFILE] = {"BearerTokenFile", K8S_FIELD_STRING},
	[F_IMP_USER] = {"Impersonate.UserName", K8S_FIELD_STRING},
	[F_IMP_UID] = {"Impersonate.UID", K8S_FIELD_STRING},
	[F_IMP_GROUPS] = {"Impersonate.Groups", K8S_FIELD_LIST},
	[F_IMP_EXTRA] = {"Impersonate.Extra", K8S_FIELD_PAIRS},
	[F_TLS_INSECURE] = {"TLSClientConfig.Insecure", K8S_FIELD_BOOL},
	[F_TLS_SERVERNAME] = {"TLSClientConfig.ServerName", K8S_FIELD_STRING},
	[F_TLS_CAFILE] = {"TLSClientConfig.CAFile", K8S_FIELD_STRING},
	[F_TLS_CERTFILE] = {"TLSClientConfig.CertFile", K8S_FIELD_STRING},
	[F_TLS_KEYFILE] = {"TLSClientConfig.KeyFile", K8S_FIELD_STRING},
	[F_TLS_CADATA] = {"TLSClientConfig.CAData", K8S_FIELD_BYTES},
	[F_TLS_CERTDATA] = {"TLSClientConfig.CertData", K8S_FIELD_BYTES},
	[F_TLS_KEYDATA] = {"TLSClientConfig.KeyData", K8S_FIELD_BYTES},
	[F_USERAGENT] = {"UserAgent", K8S_FIELD_STRING},
	[F_DISABLECOMPRESSION] = {"DisableCompression", K8S_FIELD_BOOL},
	[F_QPS] = {"QPS", K8S_FIELD_NUMBER},
	[F_BURST] = {"Burst", K8S_FIELD_NUMBER},
	[F_TIMEOUT] = {"Timeout", K8S_FIELD_NUMBER},
	[F_PROXY] = {"Proxy", K8S_FIELD_STRING},
	[F_NAMESPACE] = {"Namespace", K8S_FIELD_STRING},
	[F_AP_NAME] = {"AuthProvider.Name", K8S_FIELD_STRING},
	[F_AP_CONFIG] = {"AuthProvider.Config", K8S_FIELD_PAIRS},
	[F_EXEC_COMMAND] = {"ExecProvider.Command", K8S_FIELD_STRING},
	[F_EXEC_APIVERSION] = {"ExecProvider.APIVersion", K8S_FIELD_STRING},
	[F_EXEC_INTERACTIVE] = {"ExecProvider.InteractiveMode", K8S_FIELD_STRING},
	[F_EXEC_HINT] = {"ExecProvider.InstallHint", K8S_FIELD_STRING},
	[F_EXEC_ARGS] = {"ExecProvider.Args", K8S_FIELD_LIST},
	[F_EXEC_ENV] = {"ExecProvider.Env", K8S_FIELD_PAIRS},
	[F_EXEC_CLUSTERINFO] = {"ExecProvider.ProvideClusterInfo", K8S_FIELD_BOOL},
};

k8s_payload *k8s__payload_new(void *ptr, void (*free_fn)(void *))
{
	k8s_payload *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return NULL;
	}
	/* recursive: a token callback may itself make requests with a client
	 * of the same config (a Lua TokenSource that calls the API), which
	 * fetch again on the same thread */
	pthread_mutexattr_t ra;
	int rc = pthread_mutexattr_init(&ra);
	if (rc == 0) {
		rc = pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
		if (rc == 0)
			rc = pthread_mutex_init(&p->refresh_mu, &ra);
		pthread_mutexattr_destroy(&ra);
	}
	if (rc != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	atomic_init(&p->refs, 1);
	p->ptr = ptr;
	p->free_fn = free_fn;
	return p;
}

k8s_payload *k8s__payload_ref(k8s_payload *p)
{
	/* taking a reference needs one already held: nothing to order */
	if (p)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void k8s__payload_unref(k8s_payload *p)
{
	/* release: this thread's uses of the payload happen before the free;
	 * acquire (for the last one): the free sees every other thread's */
	if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (p->free_fn)
		p->free_fn(p->ptr);
	k8s__sfree(p->token);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->refresh_mu);
	free(p);
}

void k8s__payload_lock(k8s_payload *p)
{
	if (p)
		pthread_mutex_lock(&p->mu);
}

void k8s__payload_unlock(k8s_payload *p)
{
	if (p)
		pthread_mutex_unlock(&p->mu);
}


/* The token cache, with p->mu held. */
static int token_valid_locked(const k8s_payload *p, double now)
{
	return p->token && (p->expiry <= 0 || now < p->expiry);
}

static int token_set_locked(k8s_payload *p, const char *token, double expiry)
{
	char *copy = NULL;
	if (token && !(copy = k8s__strdup(token))) {
		k8s__sfree(p->token);
		p->token = NULL;
		return k8s__error_oom();
	}
	k8s__sfree(p->token);
	p->token = copy;
	p->expiry = expiry;
	return 0;
}

int k8s__payload_token_valid(k8s_payload *p, double now)
{
	int valid;
	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	valid = token_valid_locked(p, now);
	pthread_mutex_unlock(&p->mu);
	return valid;
}

int k8s__payload_token_get(k8s_payload *p, char **out)
{
	int rc = 0;
	*out = NULL;
	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	if (p->token && !(*out = k8s__strdup(p->token)))
		rc = k8s__error_oom();
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int k8s__payload_token_set(k8s_payload *p, const char *token, double expiry)
{
	int rc;
	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	rc = token_set_locked(p, token, expiry);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void k8s__payload_token_drop(k8s_payload *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	k8s__sfree(p->token);
	p->token = NULL;
	pthread_mutex_unlock(&p->mu);
}

int k8s__payload_token_fetch(k8s_payload *p, int (*cb)(void *, int, char **, double *), int invalidate,
			     char **token, double *expiry)
{
	int rc;
	*token = NULL;
	*expiry = 0;
	if (!p || !cb)
		return k8s__error(K8S_EAUTH, "AuthProviderError", "no credential callback");
	pthread_mutex_lock(&p->refresh_mu);
	if (!invalidate) {
		/* another thread may have refreshed while this one waited */
		pthread_mutex_lock(&p->mu);
		rc = 1;
		if (token_valid_locked(p, k8s__wall_now())) {
			rc = (*token = k8s__strdup(p->token)) ? 0 : k8s__error_oom();
			*expiry = p->expiry;
		}
		pthread_mutex_unlock(&p->mu);
		if (rc <= 0) {
			pthread_mutex_unlock(&p->refresh_mu);
			return rc;
		}
	}
	/* the callback runs without the cache lock: other threads keep reading
	 * the cached token meanwhile */
	rc = cb(p->ptr, invalidate, token, expiry);
	if (rc == 0) {
		/* cached before anyone waiting for the refresh looks */
		pthread_mutex_lock(&p->mu);
		token_set_locked(p, *token, *expiry);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&p->refresh_mu);
	return rc;
}

int k8s__field_index(const char *field)
{
	int i;
	if (!field)
		return -1;
	for (i = 0; i < F_COUNT; i++)
		if (strcmp(fields[i].name, field) == 0)
			return i;
	return -1;
}

k8s_field_type k8s_config_field_type(const char *field)
{
	int i = k8s__field_index(field);
	return i < 0 ? K8S_FIELD_NONE : fields[i].type;
}

const char *k8s_config_field_name(size_t i)
{
	return i < F_COUNT ? fields[i].name : NULL;
}

int k8s__strlist_add(k8s_strlist *l, const char *s)
{
	/* geometric growth with an implicit capacity: max(4, the next power of
	 * two of n), so a list of n items costs O(log n) reallocations (a
	 * kubeconfig can hold thousands of aliased pairs) */
	if (l->n == 0 || (l->n >= 4 && (l->n & (l->n - 1)) == 0)) {
		size_t cap = l->n ? l->n * 2 : 4;
		char **items = realloc(l->items, cap * sizeof(char *));
		if (!items)
			return k8s__error_oom();
		l->items = items;
	}
	if (!(l->items[l->n] = k8s__strdup(s ? s : "")))
		return k8s__error_oom();
	l->n++;
	return 0;
}

static void strlist_release(k8s_strlist *l, int wipe)
{
	size_t i;
	for (i = 0; i < l->n; i++) {
		if (wipe)
			k8s__sfree(l->items[i]);
		else
			free(l->items[i]);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void k8s__strlist_free(k8s_strlist *l)
{
	strlist_release(l, 0);
}

void k8s__strlist_wipe(k8s_strlist *l)
{
	strlist_release(l, 1);
}

static void field_free(k8s_config *cfg, int i)
{
	k8s_field_value *v = &cfg->f[i];
	switch (fields[i].type) {
	/* every value is wiped before release: BearerToken, Password, key
	 * material, an auth provider's config and an exec plugin's env are
	 * secrets, and wiping the rest costs nothing that matters */
	case K8S_FIELD_STRING:
		k8s__sfree(v->s);
		v->s = NULL;
		break;
	case K8S_FIELD_BYTES:
		k8s__wipe(v->b.data, v->b.len);
		free(v->b.data);
		memset(&v->b, 0, sizeof(v->b));
		break;
	case K8S_FIELD_LIST:
	case K8S_FIELD_PAIRS:
		k8s__strlist_wipe(&v->list);
		break;
	default:
		memset(v, 0, sizeof(*v));
	}
}

int k8s_config_new(k8s_config **out)
{
	k8s_config *cfg;
	*out = NULL;
	if (k8s_global_init() < 0)
		return K8S_ERROR;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return k8s__error_oom();
	*out = cfg;
	return 0;
}

void k8s_config_free(k8s_config *cfg)
{
	int i;
	if (!cfg)
		return;
	for (i = 0; i < F_COUNT; i++)
		field_free(cfg, i);
	k8s_rate_limiter_free(cfg->rate_limiter);
	k8s__payload_unref(cfg->token_payload);
	k8s__payload_unref(cfg->exec_payload);
	k8s__payload_unref(cfg->hook_payload);
	free(cfg);
}

int k8s_config_copy(k8s_config **out, const k8s_config *src)
{
	k8s_config *cfg;
	int i;
	size_t j;
	*out = NULL;
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return k8s__error_oom();
	for (i = 0; i < F_COUNT; i++) {
		const k8s_field_value *s = &src->f[i];
		k8s_field_value *d = &cfg->f[i];
		switch (fields[i].type) {
		case K8S_FIELD_STRING:
			if (s->s && !(d->s = k8s__strdup(s->s)))
				goto oom;
			break;
		case K8S_FIELD_BYTES:
			if (s->b.set) {
				if (!(d->b.data = k8s__strndup(s->b.data, s->b.len)))
					goto oom;
				d->b.len = s->b.len;
				d->b.set = 1;
			}
			break;
		case K8S_FIELD_LIST:
		case K8S_FIELD_PAIRS:
			for (j = 0; j < s->list.n; j++)
				if (k8s__strlist_add(&d->list, s->list.items[j]) < 0)
					goto oom;
			break;
		default:
			*d = *s;
		}
	}
	if (src->rate_limiter)
		cfg->rate_limiter = k8s_rate_limiter_ref(src->rate_limiter);
	cfg->token_cb = src->token_cb;
	cfg->token_payload = k8s__payload_ref(src->token_payload);
	cfg->exec_payload = k8s__payload_ref(src->exec_payload);
	cfg->req_hook = src->req_hook;
	cfg->resp_hook = src->resp_hook;
	cfg->hook_payload = k8s__payload_ref(src->hook_payload);
	cfg->lost = src->lost;
	*out = cfg;
	return 0;
oom:
	k8s_config_free(cfg);
	return k8s__error_oom();
}

static int lookup(const char *field, k8s_field_type want)
{
	int i = k8s__field_index(field);
	if (i < 0)
		return k8s__error(K8S_EINVALID, "Invalid", "config: unknown field \"%s\"", field ? field : "(null)");
	if (fields[i].type != want) {
		static const char *names[] = {"none", "a string", "bytes", "a boolean", "a number", "a list", "key/value pairs"};
		return k8s__error(K8S_EINVALID, "Invalid", "config: %s must be %s", field, names[fields[i].type]);
	}
	return i;
}

int k8s_config_set_string(k8s_config *cfg, const char *field, const char *value)
{
	char *copy = NULL;
	int i = lookup(field, K8S_FIELD_STRING);
	if (i < 0)
		return i;
	if (value && !(copy = k8s__strdup(value)))
		return k8s__error_oom();
	field_free(cfg, i);
	cfg->f[i].s = copy;
	return 0;
}

int k8s_config_set_bytes(k8s_config *cfg, const char *field, const void *data, size_t len)
{
	char *copy = NULL;
	int i = lookup(field, K8S_FIELD_BYTES);
	if (i < 0)
		return i;
	if (data && !(copy = k8s__strndup(data, len)))
		return k8s__error_oom();
	field_free(cfg, i);
	if (data) {
		cfg->f[i].b.data = copy;
		cfg->f[i].b.len = len;
		cfg->f[i].b.set = 1;
	}
	return 0;
}

int k8s_config_set_bool(k8s_config *cfg, const char *field, int value)
{
	int i = lookup(field, K8S_FIELD_BOOL);
	if (i < 0)
		return i;
	cfg->f[i].flag.set = 1;
	cfg->f[i].flag.value = value ? 1 : 0;
	return 0;
}

int k8s_config_set_number(k8s_config *cfg, const char *field, double value)
{
	int i = lookup(field, K8S_FIELD_NUMBER);
	if (i < 0)
		return i;
	if (isnan(value))
		return k8s__error(K8S_EINVALID, "Invalid", "config: %s must be a number, got NaN", field);
	if (i == F_TIMEOUT && value < 0)
		return k8s__error(K8S_EINVALID, "Invalid", "config: Timeout must not be negative");
	cfg->f[i].num.set = 1;
	cfg->f[i].num.value = value;
	return 0;
}

int k8s_config_add_string(k8s_config *cfg, const char *field, const char *value)
{
	int i = lookup(field, K8S_FIELD_LIST);
	if (i < 0)
		return i;
	return k8s__strlist_add(&cfg->f[i].list, value);
}

int k8s_config_add_pair(k8s_config *cfg, const char *field, const char *key, const char *value)
{
	int i = lookup(field, K8S_FIELD_PAIRS), rc;
	if (i < 0)
		return i;
	if (!key || !*key)
		return k8s__error(K8S_EINVALID, "Invalid", "config: %s: empty key", field);
	if ((rc = k8s__strlist_add(&cfg->f[i].list, key)) < 0)
		return rc;
	if ((rc = k8s__strlist_add(&cfg->f[i].list, value)) < 0) {
		cfg->f[i].list.n--;
		free(cfg->f[i].list.items[cfg->f[i].list.n]);
		return rc;
	}
	return 0;
}

int k8s_config_clear(k8s_config *cfg, const char *field)
{
	int i = k8s__field_index(field);
	if (i < 0)
		return k8s__error(K8S_EINVALID, "Invalid", "config: unknown field \"%s\"", field ? field : "(null)");
	field_free(cfg, i);
	return 0;
}

int k8s_config_is_set(const k8s_config *cfg, const char *field)
{
	int i = k8s__field_index(field);
	if (i < 0)
		return 0;
	switch (fields[i].type) {
	case K8S_FIELD_STRING: return cfg->f[i].s != NULL;
	case K8S_FIELD_BYTES: return cfg->f[i].b.set;
	case K8S_FIELD_BOOL: return cfg->f[i].flag.set;
	case K8S_FIELD_NUMBER: return cfg->f[i].num.set;
	case K8S_FIELD_LIST:
	case K8S_FIELD_PAIRS: return cfg->f[i].list.n > 0;
	default: return 0;
	}
}

const char *k8s_config_get_string(const k8s_config *cfg, const char *field)
{
	int i = k8s__field_index(field);
	return (i >= 0 && fields[i].type == K8S_FIELD_STRING) ? cfg->f[i].s : NULL;
}

const void *k8s_config_get_bytes(const k8s_config *cfg, const char *field, size_t *len)
{
	int i = k8s__field_index(field);
	if (i < 0 || fields[i].type != K8S_FIELD_BYTES || !cfg->f[i].b.set) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = cfg->f[i].b.len;
	return cfg->f[i].b.data;
}

int k8s_config_get_bool(const k8s_config *cfg, const char *field)
{
	int i = k8s__field_index(field);
	return (i >= 0 && fields[i].type == K8S_FIELD_BOOL) ? cfg->f[i].flag.value : 0;
}

double k8s_config_get_number(const k8s_config *cfg, const char *field)
{
	int i = k8s__field_index(field);
	return (i >= 0 && fields[i].type == K8S_FIELD_NUMBER) ? cfg->f[i].num.value : 0;
}

size_t k8s_config_count(const k8s_config *cfg, const char *field)
{
	int i = k8s__field_index(field);
	if (i < 0)
		return 0;
	if (fields[i].type == K8S_FIELD_LIST)
		return cfg->f[i].list.n;
	if (fields[i].type == K8S_FIELD_PAIRS)
		return cfg->f[i].list.n / 2;
	return 0;
}

const char *k8s_config_get_item(const k8s_config *cfg, const char *field, size_t idx)
{
	int i = k8s__field_index(field);
	if (i < 0 || fields[i].type != K8S_FIELD_LIST || idx >= cfg->f[i].list.n)
		return NULL;
	return cfg->f[i].list.items[idx];
}

int k8s_config_get_pair(const k8s_config *cfg, const char *field, size_t idx, const char **key, const char **value)
{
	int i = k8s__field_index(field);
	if (i < 0 || fields[i].type != K8S_FIELD_PAIRS || idx >= cfg->f[i].list.n / 2)
		return K8S_ENOTFOUND;
	*key = cfg->f[i].list.items[2 * idx];
	*value = cfg->f[i].list.items[2 * idx + 1];
	return 0;
}

void k8s_config_set_rate_limiter(k8s_config *cfg, k8s_rate_limiter *rl)
{
	if (rl)
		k8s_rate_limiter_ref(rl);
	k8s_rate_limiter_free(cfg->rate_limiter);
	cfg->rate_limiter = rl;
}

k8s_rate_limiter *k8s_config_get_rate_limiter(const k8s_config *cfg)
{
	return cfg->rate_limiter;
}

void k8s_config_set_token_callback(k8s_config *cfg, k8s_token_cb cb, void *payload, void (*free_payload)(void *))
{
	k8s__payload_unref(cfg->token_payload);
	cfg->token_payload = NULL;
	cfg->token_cb = cb;
	cfg->lost &= ~CFG_LOST_TOKEN_CB;
	if (cb && !(cfg->token_payload = k8s__payload_new(payload, free_payload))) {
		/* out of memory: fail closed. Without the callback requests
		 * would go out with no credentials: no client takes the config */
		if (free_payload)
			free_payload(payload);
		cfg->token_cb = NULL;
		cfg->lost |= CFG_LOST_TOKEN_CB;
	}
}

void k8s_config_set_hooks(k8s_config *cfg, k8s_request_hook req, k8s_response_hook resp, void *payload,
			  void (*free_payload)(void *))
{
	k8s__payload_unref(cfg->hook_payload);
	cfg->hook_payload = NULL;
	cfg->req_hook = req;
	cfg->resp_hook = resp;
	cfg->lost &= ~CFG_LOST_HOOKS;
	if ((req || resp) && (payload || free_payload) && !(cfg->hook_payload = k8s__payload_new(payload, free_payload))) {
		/* out of memory: the hooks must not run with a NULL payload, nor
		 * requests go out without them (a hook may add credentials) */
		if (free_payload)
			free_payload(payload);
		cfg->req_hook = NULL;
		cfg->resp_hook = NULL;
		cfg->lost |= CFG_LOST_HOOKS;
	}
}

#define SET(i) k8s_config_is_set(cfg, fields[i].name)

int k8s_config_validate(const k8s_config *cfg)
{
	int has_ca = SET(F_TLS_CAFILE) || SET(F_TLS_CADATA);
	int has_cert = SET(F_TLS_CERTFILE) || SET(F_TLS_CERTDATA);
	int has_key = SET(F_TLS_KEYFILE) || SET(F_TLS_KEYDATA);
	const char *ia = cfg->f[F_EXEC_INTERACTIVE].s;
	const char *ev = cfg->f[F_EXEC_APIVERSION].s;

	if (cfg->lost)
		return k8s__error(K8S_ENOMEM, "OutOfMemory", "config: out of memory when the %s was set",
				  cfg->lost & CFG_LOST_TOKEN_CB ? "credential callback" : "request hooks");

	if (cfg->f[F_TLS_INSECURE].flag.value && has_ca)
		return k8s__error(K8S_EINVALID, "Invalid",
				  "config: TLSClientConfig.Insecure cannot be combined with a CA (TLSClientConfig.%s): "
				  "specifying a root certificates file with the insecure flag is not allowed",
				  SET(F_TLS_CAFILE) ? "CAFile" : "CAData");
	if (has_cert && !has_key)
		return k8s__error(K8S_EINVALID, "Invalid",
				  "config: TLSClientConfig.CertFile/CertData is set but TLSClientConfig.KeyFile/KeyData is not");
	if (has_key && !has_cert)
		return k8s__error(K8S_EINVALID, "Invalid",
				  "config: TLSClientConfig.KeyFile/KeyData is set but TLSClientConfig.CertFile/CertData is not");
	if ((SET(F_TOKEN) || SET(F_TOKENFILE)) && (SET(F_USERNAME) || SET(F_PASSWORD)))
		return k8s__error(K8S_EINVALID, "Invalid",
				  "config: username/password or bearer token may be set, but not both (Username, BearerToken)");
	if (SET(F_EXEC_COMMAND) && SET(F_AP_NAME))
		return k8s__error(K8S_EINVALID, "Invalid",
				  "config: execProvider and authProvider cannot be used in combination (ExecProvider, AuthProvider)");
	if ((SET(F_EXEC_APIVERSION) || SET(F_EXEC_ARGS) || SET(F_EXEC_ENV)) && !SET(F_EXEC_COMMAND))
		return k8s__error(K8S_EINVALID, "Invalid", "config: ExecProvider.Command is required");
	if (SET(F_EXEC_COMMAND)) {
		if (!ev || !*ev)
			return k8s__error(K8S_EINVALID, "Invalid", "config: ExecProvider.APIVersion is required");
		if (strcmp(ev, "client.authentication.k8s.io/v1") && strcmp(ev, "client.authentication.k8s.io/v1beta1"))
			return k8s__error(K8S_EINVALID, "Invalid",
					  "config: ExecProvider.APIVersion \"%s\" is not supported "
					  "(client.authentication.k8s.io/v1 or v1beta1)", ev);
		if (ia && strcmp(ia, "Never") && strcmp(ia, "IfAvailable") && strcmp(ia, "Always"))
			return k8s__error(K8S_EINVALID, "Invalid",
					  "config: ExecProvider.InteractiveMode \"%s\" is invalid (Never, IfAvailable, Always)", ia);
		if (!strcmp(ev, "client.authentication.k8s.io/v1") && (!ia || !*ia))
			return k8s__error(K8S_EINVALID, "Invalid",
					  "config: ExecProvider.InteractiveMode is required for client.authentication.k8s.io/v1");
	}
	if ((SET(F_IMP_UID) || SET(F_IMP_GROUPS) || SET(F_IMP_EXTRA)) && !SET(F_IMP_USER))
		return k8s__error(K8S_EINVALID, "Invalid",
				  "config: Impersonate.UID, Impersonate.Groups and Impersonate.Extra require Impersonate.UserName");
	if (cfg->f[F_QPS].num.value > 0 && cfg->f[F_BURST].num.set && cfg->f[F_BURST].num.value <= 0 && !cfg->rate_limiter)
		return k8s__error(K8S_EINVALID, "Invalid", "config: Burst is required to be greater than 0 when QPS is set");
	if (SET(F_PROXY)) {
		const char *p = cfg->f[F_PROXY].s;
		if (strncmp(p, "http://", 7) && strncmp(p, "https://", 8) && strncmp(p, "socks5://", 9))
			return k8s__error(K8S_EINVALID, "Invalid",
					  "config: Proxy must be an http, https or socks5 URL");
	}
	return 0;
}
