/* Persisting auth-provider config (k8s_clientcmd_persist_auth_provider:
 * rewrite_doc, the libyaml emitter, write_atomic) between two loads.
 *
 * Input: a kubeconfig as for fuzz/kubeconfig.c (a `#--split--` line makes it
 * two files loaded with KUBECONFIG=a:b), optionally followed by a line
 * `#--kv--` and the pairs to persist, one `key<TAB>value` a line (no tab: an
 * empty value); without it a fixed set of pairs is persisted. The config is
 * loaded, the pairs are persisted into the user's file, and the config is
 * loaded again. Nothing is executed and nothing is sent.
 *
 * Properties:
 *  - when the first load succeeds and the user has an auth-provider, the
 *    persist succeeds (unless a later YAML document of the file does not
 *    parse: the loader reads only the first, the persist keeps them all);
 *    a user without one is K8S_ENOTFOUND;
 *  - after a successful persist the reload succeeds too, gives the same
 *    context, cluster, user, files and every config field but
 *    AuthProvider.Config, and AuthProvider.Config reads back exactly the
 *    persisted pairs (a repeated key keeps its last value, in order of the
 *    last occurrences; empty keys are dropped by the loader);
 *  - no leaks, no stray lock or temporary file.
 */
// fuzz-flags: -timeout=5
#include "fuzz.h"
#include "scratch.h"

#include <dirent.h>
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
#define KV "#--kv--"
#define MAX_PAIRS 32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	scratch_init("kcp");
	return 0;
}


/* The first line starting with marker: where it starts, or NULL. */
static const uint8_t *find_line(const uint8_t *data, size_t size, const char *marker)
{
	size_t off = 0, ml = strlen(marker);
	while (off + ml <= size) {
		const uint8_t *m = memmem(data + off, size - off, marker, ml);
		if (!m)
			return NULL;
		if (m == data || m[-1] == '\n')
			return m;
		off = (size_t)(m - data) + 1;
	}
	return NULL;
}

/* The bytes after the line at m. */
static const uint8_t *after_line(const uint8_t *data, size_t size, const uint8_t *m)
{
	const uint8_t *nl = memchr(m, '\n', size - (size_t)(m - data));
	return nl ? nl + 1 : data + size;
}

static int load(k8s_config **cfg, k8s_clientcmd_info *info, int split)
{
	int rc;
	if (!split)
		return k8s_clientcmd_build_config_from_flags_ex(cfg, info, NULL, path_a);
	setenv("KUBECONFIG", kc_list, 1);
	rc = k8s_clientcmd_build_config_from_flags_ex(cfg, info, NULL, NULL);
	unsetenv("KUBECONFIG");
	return rc;
}

/* Whether every YAML document of the file parses (the persist reads all). */
static int all_docs_parse(const char *path)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	int ok = 1;
	if (!f)
		return 0;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return 0;
	}
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			ok = 0;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return ok;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Every field of two configs equal, AuthProvider.Config aside. */
static void check_same_config(const k8s_config *a, const k8s_config *b)
{
	const char *f;
	size_t i, j;
	for (i = 0; (f = k8s_config_field_name(i)); i++) {
		if (!strcmp(f, "AuthProvider.Config"))
			continue;
		switch (k8s_config_field_type(f)) {
		case K8S_FIELD_STRING:
			FUZZ_CHECK(same_str(k8s_config_get_string(a, f), k8s_config_get_string(b, f)),
				   "%s changed after the persist: \"%s\" -> \"%s\"", f, k8s_config_get_string(a, f),
				   k8s_config_get_string(b, f));
			break;
		case K8S_FIELD_BYTES: {
			size_t la = 0, lb = 0;
			const void *da = k8s_config_get_bytes(a, f, &la), *db = k8s_config_get_bytes(b, f, &lb);
			FUZZ_CHECK(!da == !db && la == lb && (!la || !memcmp(da, db, la)), "%s changed after the persist",
				   f);
			break;
		}
		case K8S_FIELD_BOOL:
			FUZZ_CHECK(k8s_config_get_bool(a, f) == k8s_config_get_bool(b, f), "%s changed after the persist",
				   f);
			break;
		case K8S_FIELD_NUMBER:
			FUZZ_CHECK(k8s_config_get_number(a, f) == k8s_config_get_number(b, f),
				   "%s changed after the persist", f);
			break;
		case K8S_FIELD_LIST:
			FUZZ_CHECK(k8s_config_count(a, f) == k8s_config_count(b, f), "%s changed after the persist", f);
			for (j = 0; j < k8s_config_count(a, f); j++)
				FUZZ_CHECK(same_str(k8s_config_get_item(a, f, j), k8s_config_get_item(b, f, j)),
					   "%s[%zu] changed after the persist", f, j);
			break;
		case K8S_FIELD_PAIRS:
			FUZZ_CHECK(k8s_config_count(a, f) == k8s_config_count(b, f), "%s changed after the persist", f);
			for (j = 0; j < k8s_config_count(a, f); j++) {
				const char *ka = NULL, *va = NULL, *kb = NULL, *vb = NULL;
				k8s_config_get_pair(a, f, j, &ka, &va);
				k8s_config_get_pair(b, f, j, &kb, &vb);
				FUZZ_CHECK(same_str(ka, kb) && same_str(va, vb), "%s[%zu] changed after the persist", f, j);
			}
			break;
		default:
			break;
		}
	}
}

/* AuthProvider.Config reads back the pairs: last value of each key, in the
 * order of the last occurrences, empty keys dropped. */
static void check_pairs(const k8s_config *cfg, char *const *kv, size_t npairs)
{
	size_t i, j, n = 0;
	for (i = 0; i < npairs; i++) {
		const char *k = NULL, *v = NULL;
		for (j = i + 1; j < npairs && strcmp(kv[2 * j], kv[2 * i]); j++)
			;
		if (j < npairs || !*kv[2 * i])
			continue;
		FUZZ_CHECK(k8s_config_get_pair(cfg, "AuthProvider.Config", n, &k, &v) == 0,
			   "persisted key \"%s\" not read back (pair %zu of %zu)", kv[2 * i], n,
			   k8s_config_count(cfg, "AuthProvider.Config"));
		FUZZ_CHECK(!strcmp(k, kv[2 * i]) && !strcmp(v, kv[2 * i + 1]),
			   "pair %zu reads back as \"%s\": \"%s\", persisted \"%s\": \"%s\"", n, k, v, kv[2 * i],
			   kv[2 * i + 1]);
		n++;
	}
	FUZZ_CHECK(k8s_config_count(cfg, "AuthProvider.Config") == n, "%zu pairs read back, %zu persisted",
		   k8s_config_count(cfg, "AuthProvider.Config"), n);
}

/* Valid UTF-8 (Unicode scalar values in their shortest form)? */
static int valid_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		unsigned long cp;
		int n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : -1;
		int i;
		if (n < 0)
			return 0;
		cp = n ? *s & (0x3f >> n) : *s;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp < 0xe000))
			return 0;
		s += n + 1;
	}
	return 1;
}

static size_t parse_kv(const uint8_t *p, size_t len, char **kv)
{
	size_t n = 0;
	while (len && n < MAX_PAIRS) {
		const uint8_t *nl = memchr(p, '\n', len);
		size_t ll = nl ? (size_t)(nl - p) : len;
		const uint8_t *tab = memchr(p, '\t', ll);
		size_t kl = tab ? (size_t)(tab - p) : ll;
		kv[2 * n] = strndup((const char *)p, kl);
		kv[2 * n + 1] = tab ? strndup((const char *)tab + 1, ll - kl - 1) : strdup("");
		n++;
		if (!kv[2 * n - 2] || !kv[2 * n - 1])
			break;
		p += nl ? ll + 1 : ll;
		len -= nl ? ll + 1 : ll;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = {"access-token", "ya29.A0ARrdaM-fuzz", "expiry", "2030-01-02T03:04:05Z",
					    "id-token",     "yes",                "empty",  ""};
	k8s_config *cfg = NULL, *cfg2 = NULL;
	k8s_clientcmd_info info = K8S_CLIENTCMD_INFO_INIT, info2 = K8S_CLIENTCMD_INFO_INIT;
	char *kv[2 * MAX_PAIRS] = {0};
	size_t npairs = 0, i, kclen = size;
	const uint8_t *m;
	int split = 0, rc, prc;

	if ((m = find_line(data, size, KV))) {
		const uint8_t *rest = after_line(data, size, m);
		kclen = (size_t)(m - data);
		npairs = parse_kv(rest, size - (size_t)(rest - data), kv);
	} else {
		for (npairs = 0; npairs < sizeof(fixed) / sizeof(*fixed) / 2; npairs++) {
			kv[2 * npairs] = strdup(fixed[2 * npairs]);
			kv[2 * npairs + 1] = strdup(fixed[2 * npairs + 1]);
		}
	}
	for (i = 0; i < 2 * npairs; i++)
		if (!kv[i])
			goto done;
	if ((m = find_line(data, kclen, SPLIT))) {
		const uint8_t *rest = after_line(data, kclen, m);
		split = 1;
		write_file(path_a, data, (size_t)(m - data));
		write_file(path_b, rest, kclen - (size_t)(rest - data));
	} else {
		write_file(path_a, data, kclen);
	}

	rc = load(&cfg, &info, split);
	if (rc != 0) {
		/* the rewrite and emitter on whatever the file is */
		prc = k8s_clientcmd_persist_auth_provider(path_a, "u", (const char *const *)kv, npairs);
		FUZZ_CHECK(prc == 0 || prc == K8S_EINVALID || prc == K8S_ENOTFOUND, "persist: unexpected code %d: %s",
			   prc, k8s_error_last()->message);
		goto done;
	}
	if (!info.user || !info.user_file)
		goto done;
	prc = k8s_clientcmd_persist_auth_provider(info.user_file, info.user, (const char *const *)kv, npairs);
	for (i = 0; i < 2 * npairs; i++)
		if (!valid_utf8(kv[i])) {
			FUZZ_CHECK(prc == K8S_EINVALID, "persisting the invalid UTF-8 \"%s\" gave %d", kv[i], prc);
			goto done;
		}
	if (prc != 0) {
		const char *host = k8s_config_get_string(cfg, "Host");
		int https = host && !strncasecmp(host, "https://", 8);
		FUZZ_CHECK(prc == K8S_EINVALID || prc == K8S_ENOTFOUND, "persist: unexpected code %d: %s", prc,
			   k8s_error_last()->message);
		FUZZ_CHECK(prc == K8S_ENOTFOUND || !all_docs_parse(info.user_file),
			   "persist failed on a file that loads: %s", k8s_error_last()->message);
		if (https)
			FUZZ_CHECK(prc == K8S_EINVALID || !k8s_config_is_set(cfg, "AuthProvider.Name"),
				   "persist: the user's auth-provider was not found: %s", k8s_error_last()->message);
		goto done;
	}
	rc = load(&cfg2, &info2, split);
	FUZZ_CHECK(rc == 0, "the reload failed after the persist: %s", k8s_error_last()->message);
	FUZZ_CHECK(same_str(info.context, info2.context) && same_str(info.cluster, info2.cluster) &&
			   same_str(info.user, info2.user) && same_str(info.user_file, info2.user_file) &&
			   same_str(info.namespace_, info2.namespace_) && info.nfiles == info2.nfiles,
		   "the reload used another context, cluster, user or file");
	check_same_config(cfg, cfg2);
	if (k8s_config_is_set(cfg, "AuthProvider.Name") || k8s_config_is_set(cfg2, "AuthProvider.Name"))
		check_pairs(cfg2, kv, npairs);

done:
	k8s_config_free(cfg);
	k8s_config_free(cfg2);
	k8s_clientcmd_info_free(&info);
	k8s_clientcmd_info_free(&info2);
	k8s_error_clear();
	for (i = 0; i < 2 * npairs; i++)
		free(kv[i]);
	{
		/* no lock or temporary file may be left behind */
		DIR *d = opendir(scratch_dir);
		struct dirent *e;
		while (d && (e = readdir(d)))
			FUZZ_CHECK(!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "a") ||
					   !strcmp(e->d_name, "b"),
				   "a stray file %s is left in the directory", e->d_name);
		if (d)
			closedir(d);
	}
	scratch_clean();
	return 0;
}
