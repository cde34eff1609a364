/* Kubeconfig loading through the public loader
 * (k8s_clientcmd_build_config_from_flags_ex): libyaml's loader, merge keys
 * and their depth limit, base64, path cleaning, the server and proxy-url
 * validators, the exec and auth-provider parsing, and the merge of two files.
 *
 * Input: a kubeconfig, written to <scratch>/a and loaded as the explicit
 * path. A line `#--split--` splits it: the part before goes to <scratch>/a,
 * the part after to <scratch>/b, and they are loaded with KUBECONFIG=a:b
 * (the merge rules). A first line `#--server URL` is passed as master_url.
 * Nothing is executed (loading never runs an exec plugin) and nothing is
 * sent.
 *
 * Properties:
 *  - the result is 0, K8S_EINVALID, K8S_ENOTFOUND or K8S_ERROR;
 *  - failure: no config, info left empty, the last error has the same code
 *    and a non-empty message that holds no distinctive secret of the input
 *    (token, password, client-key-data, auth-provider tokens/secrets);
 *  - success: a config with a non-empty Host without blanks or control
 *    characters, a DNS-label Namespace, info naming the files read and the
 *    user's file among them, and no credentials or CA when the server is
 *    plain http;
 *  - YAML alias and merge-key bombs stay bounded (-timeout=5).
 */
// fuzz-flags: -timeout=5
#include "fuzz.h"
#include "scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "k8s.h"
#include "k8s/clientcmd.h"

#define SPLIT "#--split--"
#define SERVER "#--server "
#define MAX_SCALARS 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	scratch_init("kc");
	return 0;
}

/* ---- secrets of the input, found with libyaml's event parser ---- */

typedef struct {
	char *s[MAX_SCALARS]; /* every scalar (keys and values), decoded */
	size_t n;
	unsigned char secret[MAX_SCALARS]; /* 1: the value of a secret key */
	int alias; /* an alias was seen: a scalar may be used twice */
} scalars;

static int secret_key(const char *k)
{
	static const char *const keys[] = {"token",         "password",     "client-key-data", "id-token",
					   "refresh-token", "access-token", "client-secret"};
	size_t i;
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (!strcmp(k, keys[i]))
			return 1;
	return 0;
}

static void scan(scalars *sc, const uint8_t *data, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	/* per open collection: 1 mapping expecting a key, 2 mapping expecting a value, 0 sequence */
	unsigned char stack[256];
	int depth = 0, last_secret = 0, done = 0;
	if (!yaml_parser_initialize(&parser))
		return;
	yaml_parser_set_input_string(&parser, data, len);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		int top = depth > 0 && depth <= (int)sizeof(stack) ? stack[depth - 1] : 0;
		int is_key = top == 1, is_value = top == 2;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_ALIAS_EVENT:
			sc->alias = 1;
			last_secret = 0;
			break;
		case YAML_SCALAR_EVENT:
			if (sc->n < MAX_SCALARS) {
				char *s = malloc(ev.data.scalar.length + 1);
				if (s) {
					memcpy(s, ev.data.scalar.value, ev.data.scalar.length);
					s[ev.data.scalar.length] = 0;
					sc->secret[sc->n] = is_value && last_secret &&
							    strlen(s) == ev.data.scalar.length;
					last_secret = is_key && secret_key(s);
					sc->s[sc->n++] = s;
				}
			} else {
				sc->alias = 1; /* too many to tell: check nothing */
			}
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			last_secret = 0;
			break;
		default:
			break;
		}
		/* advance the state of the enclosing mapping */
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
			if (top)
				stack[depth - 1] = top == 1 ? 2 : 1;
		}
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
			if (depth < (int)sizeof(stack))
				stack[depth] = ev.type == YAML_MAPPING_START_EVENT ? 1 : 0;
			depth++;
		} else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
}

static void scalars_free(scalars *sc)
{
	size_t i;
	for (i = 0; i < sc->n; i++)
		free(sc->s[i]);
	sc->n = 0;
}

/* A value that no fixed message text, path or other scalar can contain:
 * 16+ characters of [A-Za-z0-9._~+=-] with an upper, a lower and a digit. */
static int distinctive(const char *s)
{
	return fuzz_distinctive(s, "._~+=-") && !strstr(root_dir, s) && !strstr(path_a, s) && !strstr(path_b, s);
}

static void check_no_secret(const scalars *sc, const char *msg)
{
	size_t i, j;
	if (sc->alias)
		return;
	for (i = 0; i < sc->n; i++) {
		int unique = 1;
		if (!sc->secret[i] || !distinctive(sc->s[i]))
			continue;
		for (j = 0; j < sc->n && unique; j++)
			if (j != i && strstr(sc->s[j], sc->s[i]))
				unique = 0;
		if (unique)
			FUZZ_CHECK(!strstr(msg, sc->s[i]), "the error message holds the secret \"%s\": %s", sc->s[i],
				   msg);
	}
}

/* ---- the properties of a loaded config ---- */

static int dns_label(const char *s)
{
	size_t n = strlen(s), i;
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static void check_config(const k8s_config *cfg, const k8s_clientcmd_info *info, int split)
{
	static const char *const creds[] = {"BearerToken",
					    "BearerTokenFile",
					    "Username",
					    "Password",
					    "TLSClientConfig.CertData",
					    "TLSClientConfig.KeyData",
					    "TLSClientConfig.CertFile",
					    "TLSClientConfig.KeyFile",
					    "TLSClientConfig.CAData",
					    "TLSClientConfig.CAFile",
					    "TLSClientConfig.Insecure",
					    "AuthProvider.Name",
					    "ExecProvider.Command"};
	const char *host = k8s_config_get_string(cfg, "Host"), *ns = k8s_config_get_string(cfg, "Namespace"), *p;
	size_t i;
	int found = 0;

	FUZZ_CHECK(host && *host, "success without a Host");
	for (p = host; *p; p++)
		FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f, "Host holds a blank or control character: %s", host);
	FUZZ_CHECK(ns && dns_label(ns), "Namespace \"%s\" is not a DNS label", ns ? ns : "(null)");
	FUZZ_CHECK(!info->in_cluster, "in-cluster config used with no in-cluster environment");
	FUZZ_CHECK(info->namespace_ && !strcmp(info->namespace_, ns), "info.namespace differs from Namespace");
	FUZZ_CHECK(info->nfiles >= 1 && info->nfiles <= 2, "info names %zu files", info->nfiles);
	FUZZ_CHECK(!strcmp(info->files[0], path_a), "the first file read is %s", info->files[0]);
	if (info->nfiles == 2)
		FUZZ_CHECK(split && !strcmp(info->files[1], path_b), "the second file read is %s", info->files[1]);
	if (info->user) {
		FUZZ_CHECK(info->user_file, "a user without its file");
		for (i = 0; i < info->nfiles; i++)
			found |= !strcmp(info->user_file, info->files[i]);
		FUZZ_CHECK(found, "the user's file %s was not read", info->user_file);
	}
	if (!strncasecmp(host, "https://", 8))
		return;
	/* plain http (or a bare host:port): no credentials and no CA */
	for (i = 0; i < sizeof(creds) / sizeof(*creds); i++)
		FUZZ_CHECK(!k8s_config_is_set(cfg, creds[i]), "%s is set for the http server %s", creds[i], host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	k8s_config *cfg = NULL;
	k8s_clientcmd_info info = K8S_CLIENTCMD_INFO_INIT;
	scalars *sc = calloc(1, sizeof(*sc));
	char *server = NULL;
	const uint8_t *split = NULL;
	size_t off = 0;
	int rc;

	if (!sc)
		return 0;
	if (size >= sizeof(SERVER) - 1 && !memcmp(data, SERVER, sizeof(SERVER) - 1)) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t n = (nl ? (size_t)(nl - data) : size) - (sizeof(SERVER) - 1);
		server = strndup((const char *)data + sizeof(SERVER) - 1, n);
		if (!server) {
			free(sc);
			return 0;
		}
	}
	/* the split marker at the start of a line */
	while (off + sizeof(SPLIT) - 1 <= size) {
		const uint8_t *m = memmem(data + off, size - off, SPLIT, sizeof(SPLIT) - 1);
		if (!m)
			break;
		if (m == data || m[-1] == '\n') {
			split = m;
			break;
		}
		off = (size_t)(m - data) + 1;
	}
	if (split) {
		const uint8_t *rest = split + sizeof(SPLIT) - 1;
		const uint8_t *nl = memchr(rest, '\n', size - (size_t)(rest - data));
		size_t blen;
		rest = nl ? nl + 1 : data + size;
		blen = size - (size_t)(rest - data);
		write_file(path_a, data, (size_t)(split - data));
		write_file(path_b, rest, blen);
		scan(sc, data, (size_t)(split - data));
		scan(sc, rest, blen);
		setenv("KUBECONFIG", kc_list, 1);
		rc = k8s_clientcmd_build_config_from_flags_ex(&cfg, &info, server, NULL);
		unsetenv("KUBECONFIG");
	} else {
		write_file(path_a, data, size);
		scan(sc, data, size);
		rc = k8s_clientcmd_build_config_from_flags_ex(&cfg, &info, server, path_a);
	}

	FUZZ_CHECK(rc == 0 || rc == K8S_EINVALID || rc == K8S_ENOTFOUND || rc == K8S_ERROR, "unexpected code %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(cfg, "success without a config");
		check_config(cfg, &info, split != NULL);
	} else {
		const k8s_error *err = k8s_error_last();
		FUZZ_CHECK(!cfg, "a config returned with the error %d", rc);
		FUZZ_CHECK(!info.context && !info.user && !info.user_file && !info.nfiles && !info.files,
			   "info filled on failure");
		FUZZ_CHECK(err && err->code == rc, "the last error's code %d is not the result %d", err ? err->code : 0,
			   rc);
		FUZZ_CHECK(err->message && *err->message, "an error (%d) without a message", rc);
		check_no_secret(sc, err->message);
	}

	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);
	k8s_error_clear();
	scalars_free(sc);
	free(sc);
	free(server);
	unlink(path_a);
	unlink(path_b);
	return 0;
}
