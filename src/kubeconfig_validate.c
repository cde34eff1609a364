/* clientcmd's validation of the chosen cluster and user (validation.go):
 * the server and proxy URLs, the namespace (a DNS label), the files that
 * must be readable, and the fields that exclude or require each other. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "kubeconfig_internal.h"

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

int k8s__kc_server_kind(const char *s, const char **why)
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

int k8s__kc_dns_label_ok(const char *s)
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
		return k8s__kc_ferr(errno_code(e), file, kind, name, 0, "%s file %s cannot be read: %s", field, path,
				    strerror(e));
	}
	close(fd);
	return 0;
}

int k8s__kc_validate_cluster(const kc_cluster *c)
{
	const char *why = NULL;
	if (c->ca_file && c->ca_data.set)
		return k8s__kc_ferr(K8S_EINVALID, c->file, "cluster", c->name, 0,
				    "certificate-authority and certificate-authority-data are both set");
	if (c->ca_file) {
		int rc = check_readable(c->file, "cluster", c->name, "certificate-authority", c->ca_file);
		if (rc < 0)
			return rc;
	}
	if (c->proxy_url && !proxy_ok(c->proxy_url, &why))
		return k8s__kc_ferr(K8S_EINVALID, c->file, "cluster", c->name, 0, "proxy-url is invalid: %s", why);
	return 0;
}

int k8s__kc_validate_user(const kc_user *u)
{
#define UERR(...) k8s__kc_ferr(K8S_EINVALID, u->file, "user", u->name, 0, __VA_ARGS__)
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
