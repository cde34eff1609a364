/* kubeconfig loading, merging, validation, in-cluster config and persisting:
 * everything here runs on temporary files, without a server. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include "k8s.h"
#include "k8s/clientcmd.h"
#include "test.h"

static char root[64];

/* ---- helpers ---- */

static char *pathf(const char *fmt, ...)
{
	static char bufs[16][1024];
	static int next;
	char *b = bufs[next++ % 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

static void mkdirs(const char *dir)
{
	char tmp[1024], *p;
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0700);
			*p = '/';
		}
	mkdir(tmp, 0700);
}

static void write_file(const char *path, const char *content)
{
	char dir[1024], *slash;
	FILE *f;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = 0;
		mkdirs(dir);
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fputs(content, f);
	fclose(f);
}

static char *read_text(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;
	buf[0] = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static const char *msg(void)
{
	return k8s_error_last()->message;
}

static const char *pair_value(const k8s_config *c, const char *field, const char *key)
{
	size_t i;
	const char *k, *v;
	for (i = 0; k8s_config_get_pair(c, field, i, &k, &v) == 0; i++)
		if (!strcmp(k, key))
			return v;
	return NULL;
}

static void clean_env(void)
{
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("POD_NAMESPACE");
	k8s_global_set_string(K8S_OPT_SERVICEACCOUNT_DIR, NULL);
	setenv("HOME", pathf("%s/home", root), 1);
}

static int load_path(k8s_config **cfg, const char *path, const char *context)
{
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	ov.kubeconfig = path;
	ov.context = context;
	return k8s_clientcmd_load(cfg, &ov);
}

/* ---- merging ---- */

static void write_three(void)
{
	write_file(pathf("%s/a/config", root),
		   "apiVersion: v1\n"
		   "kind: Config\n"
		   "clusters:\n"
		   "- name: shared\n"
		   "  cluster:\n"
		   "    server: https://a.example:6443\n"
		   "    certificate-authority: ca-a.crt\n"
		   "users:\n"
		   "- name: alice\n"
		   "  user:\n"
		   "    token: tok-a\n"
		   "    tokenFile: tok/a.token\n"
		   "contexts:\n"
		   "- name: ctx-a\n"
		   "  context: {cluster: shared, user: alice}\n");
	write_file(pathf("%s/a/ca-a.crt", root), "-----BEGIN CERTIFICATE-----\n");
	write_file(pathf("%s/a/tok/a.token", root), "file-token\n");
	write_file(pathf("%s/b/config", root),
		   "current-context: ctx-b\n"
		   "clusters:\n"
		   "- name: shared\n"
		   "  cluster: {server: 'https://b.example'}\n"
		   "- name: cl-b\n"
		   "  cluster:\n"
		   "    server: https://b2.example:443\n"
		   "    certificate-authority: ./pki/../pki/ca.crt\n"
		   "    tls-server-name: api.internal\n"
		   "users:\n"
		   "- name: bob\n"
		   "  user:\n"
		   "    client-certificate: pki/bob.crt\n"
		   "    client-key: pki/bob.key\n"
		   "contexts:\n"
		   "- name: ctx-b\n"
		   "  context: {cluster: cl-b, user: bob, namespace: team-b}\n");
	write_file(pathf("%s/b/pki/ca.crt", root), "ca");
	write_file(pathf("%s/b/pki/bob.crt", root), "cert");
	write_file(pathf("%s/b/pki/bob.key", root), "key");
	write_file(pathf("%s/c/sub/config", root),
		   "current-context: ctx-c\n"
		   "clusters:\n"
		   "- name: cl-c\n"
		   "  cluster: {server: 'https://c.example'}\n"
		   "users:\n"
		   "- name: alice\n"
		   "  user: {token: tok-c}\n"
		   "contexts:\n"
		   "- name: ctx-b\n"
		   "  context: {cluster: shared, user: alice}\n");
	setenv("KUBECONFIG",
	       pathf("%s/a/config:%s/b/config:%s/a/config::%s/missing/config:%s/c/sub/config", root, root, root, root,
		     root),
	       1);
}

TEST(merge_first_wins)
{
	k8s_clientcmd_info info = K8S_CLIENTCMD_INFO_INIT;
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	k8s_config *cfg = NULL;
	size_t len;

	clean_env();
	write_three();
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, NULL), 0);
	/* current-context comes from b, the first file that sets it; ctx-b from b, not c */
	CHECK_STR(info.context, "ctx-b");
	CHECK_STR(info.cluster, "cl-b");
	CHECK_STR(info.user, "bob");
	CHECK_STR(info.user_file, pathf("%s/b/config", root));
	CHECK_STR(info.namespace_, "team-b");
	CHECK_INT(info.nfiles, 3); /* a deduplicated, missing skipped */
	if (info.nfiles == 3) {
		CHECK_STR(info.files[0], pathf("%s/a/config", root));
		CHECK_STR(info.files[1], pathf("%s/b/config", root));
		CHECK_STR(info.files[2], pathf("%s/c/sub/config", root));
	}
	CHECK_INT(info.in_cluster, 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://b2.example:443");
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.CAFile"), pathf("%s/b/pki/ca.crt", root));
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.CertFile"), pathf("%s/b/pki/bob.crt", root));
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.KeyFile"), pathf("%s/b/pki/bob.key", root));
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.ServerName"), "api.internal");
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "team-b");
	CHECK(!k8s_config_is_set(cfg, "BearerToken"));
	CHECK(!k8s_config_get_bytes(cfg, "TLSClientConfig.CAData", &len));
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);
	CHECK(info.context == NULL && info.files == NULL);

	/* context override: a's "shared" and "alice" win over b's and c's */
	ov.context = "ctx-a";
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, &ov), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://a.example:6443");
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.CAFile"), pathf("%s/a/ca-a.crt", root));
	CHECK_STR(k8s_config_get_string(cfg, "BearerToken"), "tok-a");
	CHECK_STR(k8s_config_get_string(cfg, "BearerTokenFile"), pathf("%s/a/tok/a.token", root));
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "default");
	CHECK_STR(info.user_file, pathf("%s/a/config", root));
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);

	/* cluster and user overrides on top of a context */
	ov.cluster = "cl-c";
	ov.user = "bob";
	ov.namespace_ = "other";
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, &ov), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://c.example");
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.CertFile"), pathf("%s/b/pki/bob.crt", root));
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "other");
	CHECK(!k8s_config_is_set(cfg, "BearerToken"));
	CHECK_STR(info.cluster, "cl-c");
	CHECK_STR(info.user, "bob");
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);

	/* server override keeps credentials, drops tls-server-name */
	memset(&ov, 0, sizeof(ov));
	ov.server = "https://override.example:7443";
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://override.example:7443");
	CHECK(!k8s_config_is_set(cfg, "TLSClientConfig.ServerName"));
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.CertFile"), pathf("%s/b/pki/bob.crt", root));
	k8s_config_free(cfg);

	/* an explicit path is used alone */
	memset(&ov, 0, sizeof(ov));
	ov.kubeconfig = pathf("%s/c/sub/config", root);
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, &ov), K8S_ENOTFOUND);
	CHECK(cfg == NULL);
	CHECK_HAS(msg(), "current-context: context \"ctx-c\" not found");
	CHECK_HAS(msg(), pathf("%s/c/sub/config", root));
	ov.context = "ctx-b"; /* c's own ctx-b: cluster "shared" is not in c */
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), K8S_ENOTFOUND);
	CHECK_HAS(msg(), "cluster \"shared\" referenced by context \"ctx-b\" not found");
	CHECK_HAS(msg(), pathf("%s/c/sub/config", root));

	/* a context nobody defines */
	memset(&ov, 0, sizeof(ov));
	ov.context = "nope";
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), K8S_ENOTFOUND);
	CHECK_HAS(msg(), "context \"nope\" not found");
	ov.context = NULL;
	ov.cluster = "nocluster";
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), K8S_ENOTFOUND);
	CHECK_HAS(msg(), "cluster \"nocluster\" not found");
	ov.cluster = NULL;
	ov.user = "nouser";
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), K8S_ENOTFOUND);
	CHECK_HAS(msg(), "user \"nouser\" not found");
	unsetenv("KUBECONFIG");
}

TEST(home_and_explicit)
{
	k8s_clientcmd_info info = K8S_CLIENTCMD_INFO_INIT;
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	k8s_config *cfg = NULL;

	clean_env();
	write_file(pathf("%s/home/.kube/config", root),
		   "current-context: h\n"
		   "clusters: [{name: hc, cluster: {server: 'https://home.example'}}]\n"
		   "contexts: [{name: h, context: {cluster: hc}}]\n");
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, NULL), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://home.example");
	CHECK_STR(info.files[0], pathf("%s/home/.kube/config", root));
	CHECK(info.user == NULL && info.user_file == NULL);
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);

	ov.kubeconfig = pathf("%s/does/not/exist", root);
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), K8S_ENOTFOUND);
	CHECK_HAS(msg(), pathf("%s/does/not/exist", root));
	CHECK_HAS(msg(), "does not exist");
	remove(pathf("%s/home/.kube/config", root));

	/* nothing at all: client-go's ErrEmptyConfig */
	CHECK_INT(k8s_clientcmd_load(&cfg, NULL), K8S_EINVALID);
	CHECK_STR(msg(), "invalid configuration: no configuration has been provided");
	write_file(pathf("%s/empty.yaml", root), "");
	CHECK_INT(load_path(&cfg, pathf("%s/empty.yaml", root), NULL), K8S_EINVALID);
	CHECK_STR(msg(), "invalid configuration: no configuration has been provided");
	write_file(pathf("%s/empty.yaml", root), "apiVersion: v1\nkind: Config\nclusters: null\nusers: []\n");
	CHECK_INT(load_path(&cfg, pathf("%s/empty.yaml", root), NULL), K8S_EINVALID);
	CHECK_STR(msg(), "invalid configuration: no configuration has been provided");
}

TEST(exec_token_file_and_extras)
{
	k8s_config *cfg = NULL;
	const char *k, *v;
	const char *path = pathf("%s/x/kc.yaml", root);

	clean_env();
	write_file(pathf("%s/x/secret/token", root), "  from-file-token \n\n");
	write_file(path,
		   "current-context: c\n"
		   "clusters:\n"
		   "- name: cl\n"
		   "  cluster:\n"
		   "    server: HTTPS://x.example/prefix?q=1#frag\n"
		   "    proxy-url: socks5://proxy.example:1080\n"
		   "    disable-compression: true\n"
		   "    insecure-skip-tls-verify: yes\n"
		   "users:\n"
		   "- name: u\n"
		   "  user:\n"
		   "    tokenFile: secret/token\n"
		   "    as: jane\n"
		   "    as-uid: '1234'\n"
		   "    as-groups: [dev, ops]\n"
		   "    as-user-extra:\n"
		   "      scopes: [view, edit]\n"
		   "      reason: [debug]\n"
		   "    exec:\n"
		   "      command: ./bin/cred\n"
		   "      apiVersion: client.authentication.k8s.io/v1beta1\n"
		   "      args: [--region, eu]\n"
		   "      env:\n"
		   "      - {name: FOO, value: bar}\n"
		   "      - name: EMPTY\n"
		   "      installHint: \"install \\e[1mcred\\e[0m\\n\"\n"
		   "      provideClusterInfo: true\n"
		   "- name: u2\n"
		   "  user:\n"
		   "    exec: {command: cred-on-path, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}\n"
		   "    auth-provider-not-a-key: 1\n"
		   "contexts:\n"
		   "- name: c\n"
		   "  context: {cluster: cl, user: u, namespace: ns-1}\n"
		   "- name: c2\n"
		   "  context: {cluster: cl, user: u2}\n");
	CHECK_INT(load_path(&cfg, path, NULL), 0);
	if (!cfg)
		return;
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "HTTPS://x.example/prefix");
	CHECK_STR(k8s_config_get_string(cfg, "Proxy"), "socks5://proxy.example:1080");
	CHECK(k8s_config_get_bool(cfg, "DisableCompression"));
	CHECK(k8s_config_get_bool(cfg, "TLSClientConfig.Insecure"));
	CHECK_STR(k8s_config_get_string(cfg, "BearerToken"), "from-file-token");
	CHECK_STR(k8s_config_get_string(cfg, "BearerTokenFile"), pathf("%s/x/secret/token", root));
	CHECK_STR(k8s_config_get_string(cfg, "Impersonate.UserName"), "jane");
	CHECK_STR(k8s_config_get_string(cfg, "Impersonate.UID"), "1234");
	CHECK_INT(k8s_config_count(cfg, "Impersonate.Groups"), 2);
	CHECK_STR(k8s_config_get_item(cfg, "Impersonate.Groups", 1), "ops");
	CHECK_INT(k8s_config_count(cfg, "Impersonate.Extra"), 3);
	CHECK_INT(k8s_config_get_pair(cfg, "Impersonate.Extra", 1, &k, &v), 0);
	CHECK_STR(k, "scopes");
	CHECK_STR(v, "edit");
	CHECK_STR(pair_value(cfg, "Impersonate.Extra", "reason"), "debug");
	CHECK_STR(k8s_config_get_string(cfg, "ExecProvider.Command"), pathf("%s/x/bin/cred", root));
	CHECK_STR(k8s_config_get_string(cfg, "ExecProvider.APIVersion"), "client.authentication.k8s.io/v1beta1");
	CHECK_STR(k8s_config_get_string(cfg, "ExecProvider.InteractiveMode"), "IfAvailable");
	CHECK_STR(k8s_config_get_string(cfg, "ExecProvider.InstallHint"), "install U+001B[1mcredU+001B[0m\n");
	CHECK_INT(k8s_config_count(cfg, "ExecProvider.Args"), 2);
	CHECK_STR(k8s_config_get_item(cfg, "ExecProvider.Args", 0), "--region");
	CHECK_STR(pair_value(cfg, "ExecProvider.Env", "FOO"), "bar");
	CHECK_STR(pair_value(cfg, "ExecProvider.Env", "EMPTY"), "");
	CHECK(k8s_config_get_bool(cfg, "ExecProvider.ProvideClusterInfo"));
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "ns-1");
	k8s_config_free(cfg);

	/* a command without a '/' is looked up on PATH: not resolved */
	CHECK_INT(load_path(&cfg, path, "c2"), 0);
	CHECK_STR(k8s_config_get_string(cfg, "ExecProvider.Command"), "cred-on-path");
	CHECK_STR(k8s_config_get_string(cfg, "ExecProvider.InteractiveMode"), "Never");
	k8s_config_free(cfg);
}

TEST(credentials_only_over_https)
{
	static const char *const servers[] = {"127.0.0.1:8080", "http://k.example:8080", "localhost", "[::1]:8080"};
	k8s_config *cfg = NULL;
	const char *path = pathf("%s/http.yaml", root);
	size_t i;

	clean_env();
	write_file(pathf("%s/ca.pem", root), "ca");
	for (i = 0; i < sizeof(servers) / sizeof(*servers); i++) {
		char yaml[1024];
		snprintf(yaml, sizeof(yaml),
			 "current-context: c\n"
			 "clusters: [{name: cl, cluster: {server: '%s', certificate-authority: ca.pem, "
			 "tls-server-name: sni, proxy-url: 'http://p:3128'}}]\n"
			 "users: [{name: u, user: {token: tok, as: jane, auth-provider: {name: oidc}}}]\n"
			 "contexts: [{name: c, context: {cluster: cl, user: u}}]\n",
			 servers[i]);
		write_file(path, yaml);
		CHECK_INT(load_path(&cfg, path, NULL), 0);
		CHECK_STR(k8s_config_get_string(cfg, "Host"), servers[i]);
		CHECK(!k8s_config_is_set(cfg, "BearerToken"));
		CHECK(!k8s_config_is_set(cfg, "AuthProvider.Name"));
		CHECK(!k8s_config_is_set(cfg, "TLSClientConfig.CAFile"));
		CHECK(!k8s_config_is_set(cfg, "TLSClientConfig.ServerName"));
		CHECK_STR(k8s_config_get_string(cfg, "Impersonate.UserName"), "jane");
		CHECK_STR(k8s_config_get_string(cfg, "Proxy"), "http://p:3128");
		k8s_config_free(cfg);
		cfg = NULL;
	}
}

TEST(json_form)
{
	k8s_clientcmd_info info = K8S_CLIENTCMD_INFO_INIT;
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	k8s_config *cfg = NULL;
	const void *data;
	size_t len = 0;
	const char *path = pathf("%s/j/config.json", root);

	clean_env();
	/* "Y2EtZGF0YQ==" = "ca-data", "Y2VydA" = "cert" (unpadded), "a2V5" = "key" */
	write_file(path,
		   "{\n"
		   "\t\"apiVersion\": \"v1\", \"kind\": \"Config\",\n"
		   "\t\"current-context\": \"jc\",\n"
		   "\t\"clusters\": [{\"name\": \"jcl\", \"cluster\": {\"server\": \"https://json.example\",\n"
		   "\t\t\"certificate-authority-data\": \"Y2EtZGF0\\nYQ==\"}}],\n"
		   "\t\"users\": [{\"name\": \"ju\", \"user\": {\"client-certificate-data\": \"Y2VydA\",\n"
		   "\t\t\"client-key-data\": \"a2V5\", \"auth-provider\": {\"name\": \"oidc\",\n"
		   "\t\t\"config\": {\"client-id\": \"abc\", \"idp-issuer-url\": \"https://idp\"}}}}],\n"
		   "\t\"contexts\": [{\"name\": \"jc\", \"context\": {\"cluster\": \"jcl\", \"user\": \"ju\",\n"
		   "\t\t\"namespace\": \"json-ns\"}}]\n"
		   "}\n");
	ov.kubeconfig = path;
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, &ov), 0);
	if (!cfg) {
		fprintf(stderr, "  %s\n", msg());
		return;
	}
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://json.example");
	data = k8s_config_get_bytes(cfg, "TLSClientConfig.CAData", &len);
	CHECK(data && len == 7 && !memcmp(data, "ca-data", 7));
	data = k8s_config_get_bytes(cfg, "TLSClientConfig.CertData", &len);
	CHECK(data && len == 4 && !memcmp(data, "cert", 4));
	data = k8s_config_get_bytes(cfg, "TLSClientConfig.KeyData", &len);
	CHECK(data && len == 3 && !memcmp(data, "key", 3));
	CHECK_STR(k8s_config_get_string(cfg, "AuthProvider.Name"), "oidc");
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "client-id"), "abc");
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "idp-issuer-url"), "https://idp");
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "json-ns");
	CHECK_STR(info.user_file, path);
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);
}

TEST(anchors_and_merge_keys)
{
	k8s_config *cfg = NULL;
	const char *path = pathf("%s/anchors.yaml", root);

	clean_env();
	write_file(path,
		   "base: &base {server: 'https://anchor.example', insecure-skip-tls-verify: true}\n"
		   "current-context: c\n"
		   "clusters:\n"
		   "- name: cl\n"
		   "  cluster:\n"
		   "    <<: *base\n"
		   "    tls-server-name: merged\n"
		   "users:\n"
		   "- name: u\n"
		   "  user: &u {token: shared-token}\n"
		   "- name: u2\n"
		   "  user: *u\n"
		   "contexts:\n"
		   "- name: c\n"
		   "  context: {cluster: cl, user: u2}\n");
	CHECK_INT(load_path(&cfg, path, NULL), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://anchor.example");
	CHECK(k8s_config_get_bool(cfg, "TLSClientConfig.Insecure"));
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.ServerName"), "merged");
	CHECK_STR(k8s_config_get_string(cfg, "BearerToken"), "shared-token");
	k8s_config_free(cfg);

	/* a self-referencing merge key must not loop */
	write_file(path,
		   "current-context: c\n"
		   "clusters:\n"
		   "- name: cl\n"
		   "  cluster: &self\n"
		   "    <<: *self\n"
		   "contexts: [{name: c, context: {cluster: cl}}]\n");
	CHECK(load_path(&cfg, path, NULL) < 0);
	CHECK(cfg == NULL);
}

/* ---- validation ---- */

/* Write a kubeconfig whose context "c" uses cluster "cl" and user "u". */
static const char *kc_file(const char *cluster, const char *user, const char *extra)
{
	static char yaml[4096];
	const char *path = pathf("%s/v/kc.yaml", root);
	snprintf(yaml, sizeof(yaml),
		 "current-context: c\n"
		 "clusters:\n- name: cl\n  cluster: %s\n"
		 "users:\n- name: u\n  user: %s\n"
		 "contexts:\n- name: c\n  context: {cluster: cl, user: u}\n%s",
		 cluster, user, extra ? extra : "");
	write_file(path, yaml);
	return path;
}

#define OK_CLUSTER "{server: 'https://v.example'}"

/* Load, expect `code`, and a message naming the file, the entry and each needle. */
static void expect_error(int line, const char *path, int code, const char *entry, const char *n1, const char *n2)
{
	k8s_config *cfg = NULL;
	int rc = load_path(&cfg, path, NULL);
	int bad = rc != code || cfg != NULL || !contains(msg(), path) || (entry && !contains(msg(), entry)) ||
		  (n1 && !contains(msg(), n1)) || (n2 && !contains(msg(), n2));
	if (bad) {
		fprintf(stderr, "  line %d: rc %d (want %d): %s\n", line, rc, code, msg());
		test_cur_failed_ = 1;
	}
	k8s_config_free(cfg);
}
#define EXPECT(path, code, entry, n1, n2) expect_error(__LINE__, path, code, entry, n1, n2)

TEST(validation_errors)
{
	const char *p;
	clean_env();
	write_file(pathf("%s/v/ca.crt", root), "ca");
	write_file(pathf("%s/v/c.crt", root), "cert");
	write_file(pathf("%s/v/k.key", root), "key");

	p = kc_file("{server: 'https://v.example', certificate-authority: ca.crt, certificate-authority-data: Y2E=}",
		    "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "certificate-authority and certificate-authority-data", NULL);
	p = kc_file(OK_CLUSTER, "{client-certificate: c.crt, client-certificate-data: Y2E=, client-key: k.key}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "client-certificate and client-certificate-data", NULL);
	p = kc_file(OK_CLUSTER, "{client-certificate: c.crt, client-key: k.key, client-key-data: Y2E=}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "client-key and client-key-data", NULL);
	p = kc_file(OK_CLUSTER, "{client-certificate: c.crt}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "client-certificate is set but client-key is not", NULL);
	p = kc_file(OK_CLUSTER, "{client-key-data: a2V5}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "client-key-data is set but client-certificate is not", NULL);
	p = kc_file(OK_CLUSTER,
		    "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}, "
		    "auth-provider: {name: oidc}}",
		    NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "exec and auth-provider", NULL);
	p = kc_file(OK_CLUSTER, "{exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "exec.command", NULL);
	p = kc_file(OK_CLUSTER, "{exec: {command: x}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "exec.apiVersion", NULL);
	p = kc_file(OK_CLUSTER, "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "exec.interactiveMode", "client.authentication.k8s.io/v1");
	p = kc_file(OK_CLUSTER, "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "exec.apiVersion", "not supported");
	p = kc_file(OK_CLUSTER,
		    "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Sometimes}}",
		    NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "exec.interactiveMode \"Sometimes\"", NULL);
	p = kc_file(OK_CLUSTER,
		    "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1, env: [{value: v}]}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "exec.env[0].name", NULL);
	p = kc_file(OK_CLUSTER, "{as-uid: '42'}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "as-uid is set but as is not", NULL);
	p = kc_file(OK_CLUSTER, "{as-groups: [g]}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "as-groups is set but as is not", NULL);
	p = kc_file(OK_CLUSTER, "{as-user-extra: {k: [v]}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "as-user-extra is set but as is not", NULL);
	p = kc_file(OK_CLUSTER, "{auth-provider: {config: {a: b}}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "auth-provider.name", NULL);
	p = kc_file("{server: 'https://v.example', proxy-url: 'ftp://proxy:21'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "proxy-url", "http, https, or socks5");
	p = kc_file("{server: 'https://v.example', proxy-url: 'proxy:3128'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "proxy-url", NULL);
	p = kc_file("{server: 'ftp://v.example'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "server \"ftp://v.example\" is not a valid URL", "scheme");
	p = kc_file("{server: 'https://v example'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "server", "not a valid URL");
	p = kc_file("{server: 'localhost:8080/api'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "server", "path");
	p = kc_file("{server: 'https://v.example:http'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "server", "port");
	p = kc_file("{server: 'https://fd00::1:443'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "server", "brackets");
	p = kc_file("{server: 'https://user:pw@v.example:bad'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "server", "not a valid URL");
	CHECK_HASNT(msg(), "user:pw");
	p = kc_file("{certificate-authority: ca.crt}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "server is not set", NULL);
	p = kc_file("{server: 'https://v.example', insecure-skip-tls-verify: true, certificate-authority: ca.crt}", "{}",
		    NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "insecure-skip-tls-verify", "certificate-authority");
	p = kc_file("{server: 'https://v.example', insecure-skip-tls-verify: maybe}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "insecure-skip-tls-verify must be true or false", "line 4");

	/* referenced files that do not exist: the path and the field */
	p = kc_file("{server: 'https://v.example', certificate-authority: nope/ca.crt}", "{}", NULL);
	EXPECT(p, K8S_ENOTFOUND, "cluster \"cl\"", "certificate-authority", pathf("%s/v/nope/ca.crt", root));
	p = kc_file(OK_CLUSTER, "{client-certificate: nope.crt, client-key: k.key}", NULL);
	EXPECT(p, K8S_ENOTFOUND, "user \"u\"", "client-certificate", pathf("%s/v/nope.crt", root));
	p = kc_file(OK_CLUSTER, "{client-certificate: c.crt, client-key: /nonexistent/k.key}", NULL);
	EXPECT(p, K8S_ENOTFOUND, "user \"u\"", "client-key", "/nonexistent/k.key");
	p = kc_file(OK_CLUSTER, "{tokenFile: ../v/missing.token}", NULL);
	EXPECT(p, K8S_ENOTFOUND, "user \"u\"", "tokenFile", pathf("%s/v/missing.token", root));

	/* contexts, names and namespaces */
	p = kc_file(OK_CLUSTER, "{}", "- name: c2\n  context: {cluster: cl, user: u, namespace: Bad_NS}\n");
	{
		k8s_config *cfg = NULL;
		CHECK_INT(load_path(&cfg, p, "c2"), K8S_EINVALID);
		CHECK_HAS(msg(), p);
		CHECK_HAS(msg(), "context \"c2\"");
		CHECK_HAS(msg(), "namespace \"Bad_NS\"");
		CHECK_INT(load_path(&cfg, p, "c3"), K8S_ENOTFOUND);
		CHECK_HAS(msg(), "context \"c3\" not found");
		CHECK_HAS(msg(), p);
	}
	p = kc_file(OK_CLUSTER, "{}", "- name: c\n  context: {cluster: cl}\n");
	EXPECT(p, K8S_EINVALID, "\"c\"", "duplicate context name", "line 11");
	write_file(pathf("%s/v/refs.yaml", root),
		   "current-context: c\n"
		   "contexts: [{name: c, context: {cluster: gone, user: u}}]\n");
	EXPECT(pathf("%s/v/refs.yaml", root), K8S_ENOTFOUND, NULL, "cluster \"gone\" referenced by context \"c\" not found",
	       NULL);
	write_file(pathf("%s/v/refs.yaml", root),
		   "current-context: c\n"
		   "clusters: [{name: cl, cluster: {server: 'https://v'}}]\n"
		   "contexts: [{name: c, context: {cluster: cl, user: ghost}}]\n");
	EXPECT(pathf("%s/v/refs.yaml", root), K8S_ENOTFOUND, NULL, "user \"ghost\" referenced by context \"c\" not found",
	       NULL);
	write_file(pathf("%s/v/refs.yaml", root),
		   "current-context: c\n"
		   "contexts: [{name: c, context: {namespace: x}}]\n");
	EXPECT(pathf("%s/v/refs.yaml", root), K8S_EINVALID, "context \"c\"", "cluster is not set", NULL);

	/* types and syntax */
	write_file(pathf("%s/v/types.yaml", root), "users: {u: {}}\n");
	EXPECT(pathf("%s/v/types.yaml", root), K8S_EINVALID, NULL, "users must be a list", "line 1");
	p = kc_file(OK_CLUSTER, "{token: [a, b]}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "token must be a string", "line 7");
	write_file(pathf("%s/v/bad.yaml", root), "clusters:\n- name: a\n  cluster: {server: [unclosed\nusers: x\n");
	EXPECT(pathf("%s/v/bad.yaml", root), K8S_EINVALID, NULL, "not valid YAML or JSON", "line ");
	write_file(pathf("%s/v/bad.json", root), "{\"clusters\": [}\n");
	EXPECT(pathf("%s/v/bad.json", root), K8S_EINVALID, NULL, "not valid YAML or JSON", "line 1");
	write_file(pathf("%s/v/bad.txt", root), "just some text\n");
	EXPECT(pathf("%s/v/bad.txt", root), K8S_EINVALID, NULL, "the top level must be a mapping", NULL);
	write_file(pathf("%s/v/bad.bin", root), "a: \xff\xfe\n");
	EXPECT(pathf("%s/v/bad.bin", root), K8S_EINVALID, NULL, "not valid YAML or JSON", NULL);
	p = kc_file("{server: 'https://v.example', certificate-authority-data: '@@not*base64@@'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "certificate-authority-data is not valid base64", NULL);
	CHECK_HASNT(msg(), "not*base64");
	p = kc_file("{server: 'https://v.example', certificate-authority-data: 'Y2E'}", "{}", NULL);
	{
		k8s_config *cfg = NULL;
		size_t len = 0;
		const void *d;
		CHECK_INT(load_path(&cfg, p, NULL), 0); /* unpadded is fine */
		d = k8s_config_get_bytes(cfg, "TLSClientConfig.CAData", &len);
		CHECK(d && len == 2 && !memcmp(d, "ca", 2));
		k8s_config_free(cfg);
	}
	p = kc_file("{server: 'https://v.example', certificate-authority-data: 'Y2E=='}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "not valid base64", NULL);
	p = kc_file("{server: 'https://v.example', certificate-authority-data: 'Y'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "not valid base64", NULL);

	/* a directory is not a kubeconfig */
	mkdirs(pathf("%s/v/dir.yaml", root));
	EXPECT(pathf("%s/v/dir.yaml", root), K8S_ERROR, NULL, "cannot read", NULL);
}

TEST(secrets_never_in_messages)
{
	const char *p;
	clean_env();
	p = kc_file(OK_CLUSTER, "{token: s3cr3t-T0KEN, username: admin, password: hunter2-PW}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "token and username/password", NULL);
	CHECK_HASNT(msg(), "s3cr3t-T0KEN");
	CHECK_HASNT(msg(), "hunter2-PW");
	p = kc_file(OK_CLUSTER, "{client-certificate-data: Y2VydA==, client-key-data: 'SECRETKEY$$DATA'}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "client-key-data is not valid base64", NULL);
	CHECK_HASNT(msg(), "SECRETKEY");
	p = kc_file(OK_CLUSTER, "{token: {s3cr3t-T0KEN: x}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "token must be a string", NULL);
	CHECK_HASNT(msg(), "s3cr3t-T0KEN");
	p = kc_file(OK_CLUSTER, "{password: [hunter2-PW]}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "password must be a string", NULL);
	CHECK_HASNT(msg(), "hunter2-PW");
	p = kc_file(OK_CLUSTER, "{auth-provider: {name: oidc, config: {id-token: [s3cr3t-T0KEN]}}}", NULL);
	EXPECT(p, K8S_EINVALID, "user \"u\"", "auth-provider.config", NULL);
	CHECK_HASNT(msg(), "s3cr3t-T0KEN");
	p = kc_file("{server: 'https://v.example', proxy-url: 'ftp://user:s3cr3t-T0KEN@proxy'}", "{}", NULL);
	EXPECT(p, K8S_EINVALID, "cluster \"cl\"", "proxy-url", NULL);
	CHECK_HASNT(msg(), "s3cr3t-T0KEN");
}

/* ---- in-cluster ---- */

static void sa_setup(const char *dir, const char *token, const char *ca, const char *ns)
{
	mkdirs(dir);
	remove(pathf("%s/token", dir));
	remove(pathf("%s/ca.crt", dir));
	remove(pathf("%s/namespace", dir));
	if (token)
		write_file(pathf("%s/token", dir), token);
	if (ca)
		write_file(pathf("%s/ca.crt", dir), ca);
	if (ns)
		write_file(pathf("%s/namespace", dir), ns);
	k8s_global_set_string(K8S_OPT_SERVICEACCOUNT_DIR, dir);
}

TEST(in_cluster)
{
	const char *dir = pathf("%s/sa", root);
	k8s_config *cfg = NULL;

	clean_env();
	CHECK_INT(k8s_clientcmd_in_cluster_config(&cfg), K8S_ENOTFOUND);
	CHECK_STR(msg(), "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
			 "KUBERNETES_SERVICE_PORT must be defined");
	sa_setup(dir, "sa-token-xyz\n", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		 "kube-system\n");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	CHECK_INT(k8s_clientcmd_in_cluster_config(&cfg), K8S_ENOTFOUND); /* port missing */
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_INT(k8s_clientcmd_in_cluster_config(&cfg), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://10.96.0.1:443");
	CHECK_STR(k8s_config_get_string(cfg, "BearerToken"), "sa-token-xyz");
	CHECK_STR(k8s_config_get_string(cfg, "BearerTokenFile"), pathf("%s/token", dir));
	CHECK_STR(k8s_config_get_string(cfg, "TLSClientConfig.CAFile"), pathf("%s/ca.crt", dir));
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "kube-system");
	k8s_config_free(cfg);

	setenv("POD_NAMESPACE", "from-downward-api", 1);
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	sa_setup(dir, "t", "not a certificate", NULL);
	CHECK_INT(k8s_clientcmd_in_cluster_config(&cfg), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://[fd00:10:96::1]:443");
	CHECK(!k8s_config_is_set(cfg, "TLSClientConfig.CAFile"));
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "from-downward-api");
	k8s_config_free(cfg);

	unsetenv("POD_NAMESPACE");
	sa_setup(dir, "t", NULL, "  \n");
	CHECK_INT(k8s_clientcmd_in_cluster_config(&cfg), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "default");
	CHECK(!k8s_config_is_set(cfg, "TLSClientConfig.CAFile"));
	k8s_config_free(cfg);

	sa_setup(dir, NULL, NULL, NULL);
	CHECK_INT(k8s_clientcmd_in_cluster_config(&cfg), K8S_ENOTFOUND);
	CHECK_HAS(msg(), pathf("%s/token", dir));
	CHECK(cfg == NULL);
}

TEST(in_cluster_fallback_and_build_from_flags)
{
	k8s_clientcmd_info info = K8S_CLIENTCMD_INFO_INIT;
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	const char *dir = pathf("%s/sa2", root);
	const char *kc = pathf("%s/flags/kc.yaml", root);
	k8s_config *cfg = NULL;

	clean_env();
	write_file(kc, "current-context: c\n"
		       "clusters: [{name: cl, cluster: {server: 'https://kc.example'}}]\n"
		       "users: [{name: u, user: {token: kc-token}}]\n"
		       "contexts: [{name: c, context: {cluster: cl, user: u, namespace: kc-ns}}]\n");
	sa_setup(dir, "sa-token", NULL, "sa-ns");
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);

	/* empty merged config + in-cluster environment: the in-cluster config */
	setenv("KUBECONFIG", pathf("%s/nothing/here", root), 1);
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, NULL), 0);
	CHECK_INT(info.in_cluster, 1);
	CHECK_INT(info.nfiles, 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://10.0.0.1:6443");
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "sa-ns");
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);
	ov.namespace_ = "flag-ns";
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, &ov), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "flag-ns");
	CHECK_STR(info.namespace_, "flag-ns");
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);

	/* a non-empty kubeconfig wins over in-cluster */
	setenv("KUBECONFIG", kc, 1);
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, NULL), 0);
	CHECK_INT(info.in_cluster, 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://kc.example");
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);

	/* BuildConfigFromFlags("", ""): in-cluster first */
	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, NULL, ""), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://10.0.0.1:6443");
	CHECK_STR(k8s_config_get_string(cfg, "BearerToken"), "sa-token");
	k8s_config_free(cfg);

	/* ... then the default loading rules ($KUBECONFIG): the project's API
	 * contract (client-go would read neither $KUBECONFIG nor ~/.kube/config) */
	unsetenv("KUBERNETES_SERVICE_HOST");
	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, "", NULL), 0);
	CHECK_STR(cfg ? k8s_config_get_string(cfg, "Host") : NULL, "https://kc.example");
	k8s_config_free(cfg);
	cfg = NULL;
	setenv("KUBECONFIG", pathf("%s/nothing/here", root), 1);
	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, "", NULL), K8S_EINVALID);
	CHECK_STR(msg(), "invalid configuration: no configuration has been provided");
	CHECK(cfg == NULL);
	k8s_config_free(cfg);
	cfg = NULL;

	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, "https://master.example:6443", NULL), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://master.example:6443");
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "default");
	CHECK(!k8s_config_is_set(cfg, "BearerToken"));
	k8s_config_free(cfg);

	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, "https://master.example:6443", kc), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://master.example:6443");
	CHECK_STR(k8s_config_get_string(cfg, "BearerToken"), "kc-token");
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "kc-ns");
	k8s_config_free(cfg);

	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, NULL, kc), 0);
	CHECK_STR(k8s_config_get_string(cfg, "Host"), "https://kc.example");
	k8s_config_free(cfg);

	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, "ftp://bad", NULL), K8S_EINVALID);
	CHECK_HAS(msg(), "server override");
	CHECK_INT(k8s_clientcmd_build_config_from_flags(&cfg, NULL, pathf("%s/none.yaml", root)), K8S_ENOTFOUND);
	unsetenv("KUBECONFIG");
}

/* ---- persisting ---- */

static int count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

TEST(persist_round_trip)
{
	static const char *const kv[] = {"id-token", "new-token", "expiry", "2026-01-01T00:00:00Z",
					 "count", "123", "flag", "true", "weird key", "a: b # c",
					 "id-token", "newer-token"};
	const char *dir = pathf("%s/persist", root), *file = pathf("%s/persist/config", root);
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	k8s_clientcmd_info info = K8S_CLIENTCMD_INFO_INIT;
	k8s_config *cfg = NULL;
	const char *k, *v, *text;
	struct stat st;

	clean_env();
	write_file(file,
		   "# a comment that will be lost\n"
		   "apiVersion: v1\n"
		   "kind: Config\n"
		   "preferences: {colors: true}\n"
		   "current-context: ctx\n"
		   "clusters:\n"
		   "- name: cl\n"
		   "  cluster:\n"
		   "    server: https://k.example:6443\n"
		   "    insecure-skip-tls-verify: true\n"
		   "users:\n"
		   "- name: alice\n"
		   "  user:\n"
		   "    token: alice-token\n"
		   "- name: bob\n"
		   "  user:\n"
		   "    auth-provider:\n"
		   "      name: oidc\n"
		   "      config:\n"
		   "        id-token: old\n"
		   "        refresh-token: \"r1\"\n"
		   "- name: carol\n"
		   "  user:\n"
		   "    auth-provider: {name: gcp}\n"
		   "contexts:\n"
		   "- name: ctx\n"
		   "  context: {cluster: cl, user: bob, namespace: ns1}\n"
		   "extensions:\n"
		   "- name: ext\n"
		   "  extension: {a: 1, quoted: \"0755\"}\n");
	chmod(file, 0640);

	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "bob", kv, 6), 0);
	CHECK_INT(stat(file, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	CHECK_INT(count_dir(dir), 1); /* no temp file, no lock left */
	text = read_text(file);
	CHECK_HAS(text, "preferences");
	CHECK_HAS(text, "colors: true");
	CHECK_HAS(text, "extensions");
	CHECK_HAS(text, "quoted: \"0755\"");
	CHECK_HAS(text, "alice-token");
	CHECK_HAS(text, "insecure-skip-tls-verify: true");
	CHECK_HAS(text, "\"123\"");
	CHECK_HAS(text, "\"true\"");
	CHECK_HASNT(text, "refresh-token");
	CHECK_HASNT(text, "old");

	ov.kubeconfig = file;
	CHECK_INT(k8s_clientcmd_load_ex(&cfg, &info, &ov), 0);
	CHECK_STR(info.user_file, file);
	CHECK_STR(k8s_config_get_string(cfg, "AuthProvider.Name"), "oidc");
	CHECK_INT(k8s_config_count(cfg, "AuthProvider.Config"), 5);
	CHECK_INT(k8s_config_get_pair(cfg, "AuthProvider.Config", 0, &k, &v), 0);
	CHECK_STR(k, "expiry");
	CHECK_STR(v, "2026-01-01T00:00:00Z");
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "id-token"), "newer-token");
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "count"), "123");
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "flag"), "true");
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "weird key"), "a: b # c");
	CHECK(k8s_config_get_bool(cfg, "TLSClientConfig.Insecure"));
	CHECK_STR(k8s_config_get_string(cfg, "Namespace"), "ns1");
	k8s_config_free(cfg);
	k8s_clientcmd_info_free(&info);

	ov.user = "alice";
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), 0);
	CHECK_STR(k8s_config_get_string(cfg, "BearerToken"), "alice-token");
	k8s_config_free(cfg);

	/* an auth-provider without config gets one; an empty map is written */
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "carol", kv, 1), 0);
	ov.user = "carol";
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), 0);
	CHECK_STR(k8s_config_get_string(cfg, "AuthProvider.Name"), "gcp");
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "id-token"), "new-token");
	k8s_config_free(cfg);
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "carol", NULL, 0), 0);
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), 0);
	CHECK_INT(k8s_config_count(cfg, "AuthProvider.Config"), 0);
	k8s_config_free(cfg);

	/* nothing to persist into */
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "nobody", kv, 1), K8S_ENOTFOUND);
	CHECK_HAS(msg(), "user \"nobody\" not found");
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "alice", kv, 1), K8S_ENOTFOUND);
	CHECK_HAS(msg(), "auth-provider is not set");
	CHECK_HASNT(msg(), "alice-token");
	CHECK_INT(k8s_clientcmd_persist_auth_provider(pathf("%s/nope", dir), "bob", kv, 1), K8S_ENOTFOUND);
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "bob", NULL, 1), K8S_EINVALID);
	/* text libyaml refuses, or would write as no YAML reader reads it, is
	 * refused up front: invalid bytes, an overlong form, a surrogate, a
	 * truncated sequence; valid multibyte text is written */
	{
		static const char *const bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "ok\xe2\x82", "\xf4\x90\x80\x80"};
		const char *one[2] = {"k", NULL};
		size_t i;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			one[1] = bad[i];
			CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "bob", one, 1), K8S_EINVALID);
			CHECK_HAS(msg(), "key/value 1 is not valid UTF-8");
		}
		one[1] = "caf\xc3\xa9 \xf0\x9f\x98\x80";
		CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "bob", one, 1), 0);
		ov.user = "bob";
		CHECK_INT(k8s_clientcmd_load(&cfg, &ov), 0);
		CHECK_STR(pair_value(cfg, "AuthProvider.Config", "k"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
		k8s_config_free(cfg);
		CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "bob", kv, 6), 0);
	}

	/* a held lock: refused, file untouched */
	{
		char before[65536];
		snprintf(before, sizeof(before), "%s", read_text(file));
		write_file(pathf("%s.lock", file), "");
		CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "bob", kv, 2), K8S_ERROR);
		CHECK_HAS(msg(), ".lock");
		CHECK_STR(read_text(file), before);
		remove(pathf("%s.lock", file));
	}

	/* through a symlink: the target is rewritten, the link stays */
	CHECK_INT(symlink(file, pathf("%s/link", dir)), 0);
	CHECK_INT(k8s_clientcmd_persist_auth_provider(pathf("%s/link", dir), "bob", kv + 2, 1), 0);
	CHECK_INT(lstat(pathf("%s/link", dir), &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	ov.user = "bob";
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), 0);
	CHECK_INT(k8s_config_count(cfg, "AuthProvider.Config"), 1);
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "expiry"), "2026-01-01T00:00:00Z");
	k8s_config_free(cfg);
	CHECK_INT(count_dir(dir), 2);
}

TEST(persist_json_and_multidoc)
{
	static const char *const kv[] = {"token", "t-1", "n", "42"};
	const char *file = pathf("%s/pj/config.json", root);
	k8s_config_overrides ov = K8S_CONFIG_OVERRIDES_INIT;
	k8s_config *cfg = NULL;
	const char *text;

	clean_env();
	write_file(file, "{\"current-context\": \"c\",\n"
			 " \"clusters\": [{\"name\": \"cl\", \"cluster\": {\"server\": \"https://j\"}}],\n"
			 " \"users\": [{\"name\": \"u\", \"user\": {\"auth-provider\": {\"name\": \"p\", \"config\": "
			 "{\"old\": \"1\"}}}}],\n"
			 " \"contexts\": [{\"name\": \"c\", \"context\": {\"cluster\": \"cl\", \"user\": \"u\"}}]}\n");
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "u", kv, 2), 0);
	text = read_text(file);
	CHECK_HAS(text, "\"token\": \"t-1\"");
	CHECK_HAS(text, "\"n\": \"42\"");
	CHECK_HAS(text, "\"server\": \"https://j\"");
	ov.kubeconfig = file;
	CHECK_INT(k8s_clientcmd_load(&cfg, &ov), 0);
	CHECK_STR(pair_value(cfg, "AuthProvider.Config", "token"), "t-1");
	CHECK(pair_value(cfg, "AuthProvider.Config", "old") == NULL);
	k8s_config_free(cfg);

	/* a second YAML document survives */
	file = pathf("%s/pj/multi.yaml", root);
	write_file(file, "users:\n- name: u\n  user:\n    auth-provider: {name: p}\n---\nsecond: document\n");
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "u", kv, 1), 0);
	text = read_text(file);
	CHECK_HAS(text, "second: document");
	CHECK_HAS(text, "t-1");
	/* not YAML: refused with the line */
	write_file(file, "users: [\n");
	CHECK_INT(k8s_clientcmd_persist_auth_provider(file, "u", kv, 1), K8S_EINVALID);
	CHECK_HAS(msg(), "line");
}

int main(void)
{
	int rc;
	snprintf(root, sizeof(root), "/tmp/k8s-kubeconfig-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(merge_first_wins);
	RUN(home_and_explicit);
	RUN(exec_token_file_and_extras);
	RUN(credentials_only_over_https);
	RUN(json_form);
	RUN(anchors_and_merge_keys);
	RUN(validation_errors);
	RUN(secrets_never_in_messages);
	RUN(in_cluster);
	RUN(in_cluster_fallback_and_build_from_flags);
	RUN(persist_round_trip);
	RUN(persist_json_and_multidoc);
	rc = TEST_SUMMARY();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
