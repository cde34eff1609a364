/* Exec credential plugins: run the configured command with the
 * ExecCredential request in KUBERNETES_EXEC_INFO, parse its stdout
 * (client.authentication.k8s.io/v1 or v1beta1), cache the credential until
 * its expirationTimestamp, and run it again after a 401. stderr passes
 * through; stdin is attached only for interactive runs. The plugin runs
 * through spawn.c (a helper process with no SIGCHLD, which nginx's handler
 * cannot reap): k8s__exec_provider_get blocks, the start / spawn_poll /
 * finish steps let an event loop (nginx) run it without blocking. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "exec.h"

extern char **environ;


struct k8s_exec_provider {
	char *command, *api_version, *interactive, *install_hint;
	k8s_strlist args, env; /* env: name, value, ... */
	int cluster_info;
	char *exec_info;       /* KUBERNETES_EXEC_INFO JSON */
	int interactive_run;
	k8s_credential cred;
	int have;
	double timeout;
};

void k8s__credential_clear(k8s_credential *c)
{
	k8s__sfree(c->token);
	k8s__sfree(c->cert_pem);
	k8s__sfree(c->key_pem);
	memset(c, 0, sizeof(*c));
}

void k8s__exec_provider_free(void *ptr)
{
	k8s_exec_provider *p = ptr;
	if (!p)
		return;
	free(p->command);
	free(p->api_version);
	free(p->interactive);
	free(p->install_hint);
	k8s__strlist_free(&p->args);
	k8s__strlist_free(&p->env);
	free(p->exec_info);
	k8s__credential_clear(&p->cred);
	free(p);
}

/* ExecCredential request: {"apiVersion","kind","spec":{"interactive", "cluster"?}};
 * NULL when out of memory (never a request with a member missing: json_object_set_new
 * fails, and releases the value, when the value or the object is NULL). */
static char *exec_info_json(const k8s_config *cfg, const char *api_version, int interactive, int cluster_info)
{
	json_t *root = json_object(), *spec = json_object();
	char *out;
	int bad = 0;
	k8s__json_mark();
	bad |= json_object_set_new(root, "apiVersion", json_string(api_version));
	bad |= json_object_set_new(root, "kind", json_string("ExecCredential"));
	bad |= json_object_set_new(spec, "interactive", json_boolean(interactive));
	if (cluster_info) {
		json_t *cl = json_object();
		const char *s;
		size_t len = 0;
		const void *ca;
		k8s_buf b = K8S_BUF_INIT;
		if ((s = k8s_config_get_string(cfg, "Host")))
			bad |= json_object_set_new(cl, "server", json_string(s));
		if ((s = k8s_config_get_string(cfg, "TLSClientConfig.ServerName")))
			bad |= json_object_set_new(cl, "tls-server-name", json_string(s));
		if (k8s_config_get_bool(cfg, "TLSClientConfig.Insecure"))
			bad |= json_object_set_new(cl, "insecure-skip-tls-verify", json_true());
		if ((ca = k8s_config_get_bytes(cfg, "TLSClientConfig.CAData", &len))) {
			bad |= k8s__base64_encode(&b, ca, len) < 0;
		} else if ((s = k8s_config_get_string(cfg, "TLSClientConfig.CAFile"))) {
			char *raw;
			size_t rlen;
			int r = k8s__read_file(s, SIZE_MAX, &raw, &rlen); /* unreadable: no CA data, as before */
			if (r == -ENOMEM)
				bad = 1;
			else if (r == 0)
				bad |= k8s__base64_encode(&b, raw, rlen) < 0;
			if (r == 0)
				free(raw);
		}
		if (b.ptr)
			bad |= json_object_set_new(cl, "certificate-authority-data", json_string(b.ptr));
		k8s_buf_free(&b);
		if ((s = k8s_config_get_string(cfg, "Proxy")))
			bad |= json_object_set_new(cl, "proxy-url", json_string(s));
		if (k8s_config_get_bool(cfg, "DisableCompression"))
			bad |= json_object_set_new(cl, "disable-compression", json_true());
		bad |= json_object_set_new(spec, "cluster", cl);
	}
	bad |= json_object_set_new(root, "spec", spec);
	out = bad ? NULL : json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (out && k8s__json_oom()) {
		free(out);
		out = NULL;
	}
	return out;
}

int k8s__exec_provider_new(k8s_exec_provider **out, const k8s_config *cfg)
{
	k8s_exec_provider *p;
	size_t i, n;
	const char *mode, *cmd, *av, *hint;
	int oom;
	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return k8s__error_oom();
	cmd = k8s_config_get_string(cfg, "ExecProvider.Command");
	av = k8s_config_get_string(cfg, "ExecProvider.APIVersion");
	hint = k8s_config_get_string(cfg, "ExecProvider.InstallHint");
	p->command = k8s__strdup(cmd);
	p->api_version = k8s__strdup(av);
	mode = k8s_config_get_string(cfg, "ExecProvider.InteractiveMode");
	p->interactive = k8s__strdup(mode ? mode : "IfAvailable");
	p->install_hint = k8s__strdup(hint);
	p->cluster_info = k8s_config_get_bool(cfg, "ExecProvider.ProvideClusterInfo");
	/* out of memory: never a plugin run without an argument or a
	 * variable of its environment (another profile, other credentials) */
	oom = (cmd && !p->command) || (av && !p->api_version) || !p->interactive || (hint && !p->install_hint);
	n = k8s_config_count(cfg, "ExecProvider.Args");
	for (i = 0; i < n && !oom; i++)
		oom = k8s__strlist_add(&p->args, k8s_config_get_item(cfg, "ExecProvider.Args", i)) < 0;
	n = k8s_config_count(cfg, "ExecProvider.Env");
	for (i = 0; i < n && !oom; i++) {
		const char *k, *v;
		k8s_config_get_pair(cfg, "ExecProvider.Env", i, &k, &v);
		oom = k8s__strlist_add(&p->env, k) < 0 || k8s__strlist_add(&p->env, v) < 0;
	}
	if (oom) {
		k8s__exec_provider_free(p);
		return k8s__error_oom();
	}
	if (!p->command || !p->api_version) {
		k8s__exec_provider_free(p);
		return k8s__error(K8S_EINVALID, "Invalid", "config: ExecProvider.Command and ExecProvider.APIVersion are required");
	}
	/* interactive: Never -> no; IfAvailable -> when stdin is a terminal; Always -> must be */
	p->interactive_run = strcmp(p->interactive, "Never") != 0 && isatty(0);
	if (!strcmp(p->interactive, "Always") && !isatty(0)) {
		k8s__exec_provider_free(p);
		return k8s__error(K8S_EAUTH, "ExecPluginError",
				  "exec plugin: interactiveMode must be IfAvailable or Never when running without a terminal "
				  "(ExecProvider.InteractiveMode is Always)");
	}
	p->exec_info = exec_info_json(cfg, p->api_version, p->interactive_run, p->cluster_info);
	p->timeout = k8s__opt_number(K8S_OPT_EXEC_TIMEOUT);
	if (!p->exec_info) {
		k8s__exec_provider_free(p);
		return k8s__error_oom();
	}
	*out = p;
	return 0;
}

/* RFC 3339 UTC or with offset -> Unix seconds; 0 on failure. */
static double parse_time(const char *s)
{
	struct tm tm;
	const char *rest;
	double frac = 0;
	long off = 0;
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return 0;
	if (*rest == '.') {
		/* by hand: strtod would follow LC_NUMERIC (',' in de_DE) */
		double scale = 0.1;
		if (rest[1] < '0' || rest[1] > '9')
			return 0;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
			frac += (*rest - '0') * scale;
	}
	if (*rest == '+' || *rest == '-') {
		int hh = 0, mm = 0;
		if (sscanf(rest + 1, "%d:%d", &hh, &mm) != 2)
			return 0;
		off = (hh * 3600L + mm * 60L) * (*rest == '-' ? -1 : 1);
	} else if (*rest != 'Z' && *rest != 'z') {
		return 0;
	}
	return (double)timegm(&tm) - (double)off + frac;
}


/* The plugin's argv and envp: the parent environment, the configured
 * entries (override), KUBERNETES_EXEC_INFO. envp's own strings are in
 * *owned (free with k8s__strlist_wipe: they may hold secrets). */
static int plugin_argv_envp(k8s_exec_provider *p, char ***argvp, char ***envpp, k8s_strlist *owned)
{
	size_t i, j, k = 0, nenv = 0;
	char **argv, **envp, **e;
	k8s_buf kv = K8S_BUF_INIT;

	*argvp = *envpp = NULL;
	for (e = environ; e && *e; e++)
		nenv++;
	argv = calloc(p->args.n + 2, sizeof(char *));
	envp = calloc(nenv + p->env.n / 2 + 2, sizeof(char *));
	if (!argv || !envp)
		goto oom;
	argv[0] = p->command;
	for (i = 0; i < p->args.n; i++)
		argv[i + 1] = p->args.items[i];
	for (e = environ; e && *e; e++) {
		int overridden = !strncmp(*e, "KUBERNETES_EXEC_INFO=", 21);
		for (j = 0; j + 1 < p->env.n && !overridden; j += 2) {
			size_t l = strlen(p->env.items[j]);
			if (!strncmp(*e, p->env.items[j], l) && (*e)[l] == '=')
				overridden = 1;
		}
		if (!overridden)
			envp[k++] = *e;
	}
	for (j = 0; j + 1 < p->env.n; j += 2) {
		kv.len = 0;
		if (k8s_buf_printf(&kv, "%s=%s", p->env.items[j], p->env.items[j + 1]) < 0 ||
		    k8s__strlist_add(owned, kv.ptr) < 0)
			goto oom;
	}
	kv.len = 0;
	if (k8s_buf_printf(&kv, "KUBERNETES_EXEC_INFO=%s", p->exec_info) < 0 || k8s__strlist_add(owned, kv.ptr) < 0)
		goto oom;
	for (j = 0; j < owned->n; j++)
		envp[k++] = owned->items[j];
	envp[k] = NULL;
	k8s_buf_wipe_free(&kv);
	*argvp = argv;
	*envpp = envp;
	return 0;
oom:
	k8s_buf_wipe_free(&kv);
	k8s__strlist_wipe(owned);
	free(argv);
	free(envp);
	return k8s__error_oom();
}

int k8s__exec_provider_start(k8s_exec_provider *p, k8s_spawn **out)
{
	char **argv, **envp;
	k8s_strlist owned = {NULL, 0};
	int rc;

	*out = NULL;
	if ((rc = plugin_argv_envp(p, &argv, &envp, &owned)) < 0)
		return rc;
	rc = k8s__spawn_start(out, p->command, argv, envp, p->interactive_run, p->timeout);
	k8s__strlist_wipe(&owned);
	free(argv);
	free(envp);
	if (rc < 0 && rc != K8S_ENOMEM) {
		char msg[256]; /* the last error's text is overwritten by the next */
		snprintf(msg, sizeof(msg), "%s", k8s_error_last()->message);
		return k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s: %s", p->command, msg);
	}
	return rc;
}

double k8s__exec_provider_timeout(const k8s_exec_provider *p)
{
	return p->timeout;
}

/* How the plugin ended: 0 when it exited 0. */
static int plugin_status(k8s_exec_provider *p, k8s_spawn *sp, int poll_rc)
{
	int code = K8S_SPAWN_LOST, exec_errno = 0;
	if (poll_rc == K8S_ETIMEOUT)
		return k8s__error(K8S_ETIMEOUT, "ExecPluginError", "exec plugin %s: timed out after %.0fs", p->command,
				  p->timeout);
	if (poll_rc == K8S_ENOMEM)
		return poll_rc;
	if (poll_rc < 0) {
		const k8s_error *last = k8s_error_last();
		char msg[256]; /* the last error's text is overwritten by the next */
		if (last->code == poll_rc && last->reason && !strncmp(last->reason, "ExecPlugin", 10))
			return poll_rc; /* already ours (k8s__exec_provider_start's) */
		if (last->code == poll_rc && last->reason && !strcmp(last->reason, "OutputTooLarge"))
			return k8s__error(K8S_EAUTH, "ExecPluginError",
					  "exec plugin %s: output exceeds %d bytes (the plugin was killed)", p->command,
					  K8S_SPAWN_MAX_OUTPUT);
		snprintf(msg, sizeof(msg), "%s", last->message);
		return k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s: %s", p->command, msg);
	}
	if (poll_rc == 0 || !sp)
		return k8s__error(K8S_EINVALID, "Invalid", "exec plugin %s: still running", p->command);
	k8s__spawn_status(sp, &code, &exec_errno);
	if (exec_errno == ENOENT || exec_errno == EACCES) {
		if (p->install_hint && *p->install_hint)
			return k8s__error(K8S_EAUTH, "ExecPluginNotFound",
					  "exec plugin: executable %s not found: %s. It looks like you are trying to use a "
					  "client-go credential plugin that is not installed. %s",
					  p->command, strerror(exec_errno), p->install_hint);
		return k8s__error(K8S_EAUTH, "ExecPluginNotFound", "exec plugin: executable %s not found: %s", p->command,
				  strerror(exec_errno));
	}
	if (exec_errno)
		return k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s: %s", p->command, strerror(exec_errno));
	if (code == K8S_SPAWN_LOST)
		return k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s failed: exit status unknown (lost)",
				  p->command);
	if (code != 0)
		return k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s failed: %s %d", p->command,
				  code > 0 ? "exit status" : "signal", code > 0 ? code : -code);
	return 0;
}

static int parse_credential(k8s_exec_provider *p, const char *data, size_t len, k8s_credential *c)
{
	json_error_t jerr;
	json_t *root, *st;
	const char *av, *kind, *tok, *cert, *key, *exp;
	int rc = 0;
	memset(c, 0, sizeof(*c));
	/* out of memory in jansson may drop a character of the token */
	k8s__json_mark();
	root = json_loadb(data, len, 0, &jerr);
	if (k8s__json_oom()) {
		json_decref(root);
		return k8s__error_oom();
	}
	if (!root)
		/* jansson's text quotes the input near the error: it may be a secret */
		return k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s: output is not JSON (line %d, column %d)",
				  p->command, jerr.line, jerr.column);
	av = json_string_value(json_object_get(root, "apiVersion"));
	kind = json_string_value(json_object_get(root, "kind"));
	st = json_object_get(root, "status");
	if (!av || strcmp(av, p->api_version)) {
		rc = k8s__error(K8S_EAUTH, "ExecPluginError",
				"exec plugin %s is configured to use API version %s, plugin returned version %s", p->command,
				p->api_version, av ? av : "(none)");
		goto done;
	}
	if (!kind || strcmp(kind, "ExecCredential")) {
		rc = k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s: output kind is %s, want ExecCredential",
				p->command, kind ? kind : "(none)");
		goto done;
	}
	if (!json_is_object(st)) {
		rc = k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s didn't return a status field", p->command);
		goto done;
	}
	tok = json_string_value(json_object_get(st, "token"));
	cert = json_string_value(json_object_get(st, "clientCertificateData"));
	key = json_string_value(json_object_get(st, "clientKeyData"));
	exp = json_string_value(json_object_get(st, "expirationTimestamp"));
	if ((cert && *cert) != (key && *key)) {
		rc = k8s__error(K8S_EAUTH, "ExecPluginError",
				"exec plugin %s: clientKeyData and clientCertificateData must both be set or both be empty",
				p->command);
		goto done;
	}
	if (!(tok && *tok) && !(cert && *cert)) {
		rc = k8s__error(K8S_EAUTH, "ExecPluginError",
				"exec plugin %s didn't return a token or cert/key pair", p->command);
		goto done;
	}
	if (tok && *tok && !(c->token = k8s__strdup(tok))) {
		rc = k8s__error_oom();
		goto done;
	}
	if (cert && *cert && (!(c->cert_pem = k8s__strdup(cert)) || !(c->key_pem = k8s__strdup(key)))) {
		rc = k8s__error_oom();
		goto done;
	}
	if (exp && *exp && (c->expiry = parse_time(exp)) == 0) {
		rc = k8s__error(K8S_EAUTH, "ExecPluginError", "exec plugin %s: invalid expirationTimestamp %s", p->command, exp);
		goto done;
	}
done:
	if (rc < 0)
		k8s__credential_clear(c);
	json_decref(root);
	return rc;
}

const k8s_credential *k8s__exec_provider_last(k8s_exec_provider *p)
{
	return p->have ? &p->cred : NULL;
}

int k8s__exec_provider_cached(k8s_exec_provider *p, int invalidate, const k8s_credential **out)
{
	*out = NULL;
	if (p->have && !invalidate && (p->cred.expiry == 0 || k8s__wall_now() < p->cred.expiry)) {
		*out = &p->cred;
		return 1;
	}
	return 0;
}

int k8s__exec_provider_finish(k8s_exec_provider *p, k8s_spawn *sp, int poll_rc, const k8s_credential **out)
{
	const k8s_buf *buf;
	k8s_credential c;
	int rc;
	*out = NULL;
	if ((rc = plugin_status(p, sp, poll_rc)) < 0)
		return rc;
	buf = k8s__spawn_output(sp);
	if ((rc = parse_credential(p, buf->ptr ? buf->ptr : "", buf->len, &c)) < 0)
		return rc;
	k8s__credential_clear(&p->cred);
	p->cred = c;
	p->have = 1;
	*out = &p->cred;
	return 0;
}

int k8s__exec_provider_get(k8s_exec_provider *p, int invalidate, const k8s_credential **out)
{
	k8s_spawn *sp;
	int rc;
	if (k8s__exec_provider_cached(p, invalidate, out))
		return 0;
	if ((rc = k8s__exec_provider_start(p, &sp)) < 0)
		return rc;
	/* poll wakes up at the deadline itself and kills the plugin; the extra
	 * second covers the reaping that follows */
	while ((rc = k8s__spawn_poll(sp, p->timeout + 1)) == 0)
		;
	rc = k8s__exec_provider_finish(p, sp, rc, out);
	k8s__spawn_free(sp);
	return rc;
}

int k8s__exec_attach(k8s_config *cfg)
{
	k8s_exec_provider *p;
	int rc;
	const char *cmd = k8s_config_get_string(cfg, "ExecProvider.Command");
	if (!cmd || !*cmd || cfg->exec_payload || cfg->token_cb)
		return 0;
	/* client-go skips the plugin when static credentials are configured */
	if (k8s_config_is_set(cfg, "BearerToken") || k8s_config_is_set(cfg, "BearerTokenFile") ||
	    k8s_config_is_set(cfg, "Username") || k8s_config_is_set(cfg, "TLSClientConfig.CertFile") ||
	    k8s_config_is_set(cfg, "TLSClientConfig.CertData"))
		return 0;
	if ((rc = k8s__exec_provider_new(&p, cfg)) < 0)
		return rc;
	if (!(cfg->exec_payload = k8s__payload_new(p, k8s__exec_provider_free))) {
		k8s__exec_provider_free(p);
		return k8s__error_oom();
	}
	return 0;
}
