/* Writing a kubeconfig back (clientcmd's PersistAuthProviderConfigForUser):
 * an auth provider's new config replaces the user's auth-provider.config,
 * the file's other documents and keys kept; written under FILE.lock through
 * a temporary file renamed over it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kubeconfig_internal.h"
#include "jsonscan.h"

static int emit_write(void *ud, unsigned char *buf, size_t size)
{
	return k8s_buf_put(ud, buf, size) == 0;
}

/* Plain only where no YAML 1.1 reader could take the value for a non-string. */
static yaml_scalar_style_t style_for(const char *s, int quote)
{
	static const char *const words[] = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"};
	size_t i;
	if (quote || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' || s[0] == '/'))
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("_./=+-", c)))
			return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	}
	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (!strcasecmp(s, words[i]))
			return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return YAML_PLAIN_SCALAR_STYLE;
}

static int node_id(yaml_document_t *d, yaml_node_t *n)
{
	return (int)(n - d->nodes.start) + 1;
}

/* Point user's auth-provider.config at a new mapping holding kv. */
static int rewrite_doc(yaml_document_t *d, const char *file, const char *user, const char *const *kv,
		       size_t npairs)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *users, *ap = NULL, *n;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	int ap_id, map_id, cfg_pair = -1, flow;
	size_t i, j;

	if (!root || root->type != YAML_MAPPING_NODE)
		return k8s__kc_ferr(K8S_EINVALID, file, NULL, NULL, 0, "not a kubeconfig: the top level must be a mapping");
	users = k8s__kc_map_get(d, root, "users");
	if (users && users->type == YAML_SEQUENCE_NODE)
		for (it = users->data.sequence.items.start; it < users->data.sequence.items.top; it++) {
			yaml_node_t *item = ynode(d, *it);
			if (yis(k8s__kc_map_get(d, item, "name"), user)) {
				if (!(ap = k8s__kc_map_get(d, k8s__kc_map_get(d, item, "user"), "auth-provider")) ||
				    ap->type != YAML_MAPPING_NODE)
					return k8s__kc_ferr(K8S_ENOTFOUND, file, "user", user, 0, "auth-provider is not set");
				break;
			}
		}
	if (!ap)
		return k8s__kc_ferr(K8S_ENOTFOUND, file, NULL, NULL, 0, "user \"%s\" not found", user);
	ap_id = node_id(d, ap);
	flow = ap->data.mapping.style == YAML_FLOW_MAPPING_STYLE; /* e.g. a JSON file: keep it JSON */
	/* the first `config` key: the one the loader reads (k8s__kc_map_get) */
	for (p = ap->data.mapping.pairs.start; cfg_pair < 0 && p < ap->data.mapping.pairs.top; p++)
		if (yis(ynode(d, p->key), "config"))
			cfg_pair = (int)(p - ap->data.mapping.pairs.start);

	if (!(map_id = yaml_document_add_mapping(d, NULL, YAML_BLOCK_MAPPING_STYLE)))
		return k8s__error_oom();
	for (i = 0; i < npairs; i++) {
		const char *k = kv[2 * i], *v = kv[2 * i + 1];
		int kid, vid;
		for (j = i + 1; j < npairs && strcmp(kv[2 * j], k); j++)
			;
		if (j < npairs)
			continue; /* a later pair sets this key */
		if (!(kid = yaml_document_add_scalar(d, NULL, (yaml_char_t *)k, -1, style_for(k, flow))) ||
		    !(vid = yaml_document_add_scalar(d, NULL, (yaml_char_t *)v, -1, style_for(v, flow))) ||
		    !yaml_document_append_mapping_pair(d, map_id, kid, vid))
			return k8s__error_oom();
	}
	if (npairs == 0 && (n = ynode(d, map_id)) != NULL)
		n->data.mapping.style = YAML_FLOW_MAPPING_STYLE; /* "config: {}" */
	ap = ynode(d, ap_id); /* the node array may have moved */
	if (cfg_pair >= 0) {
		ap->data.mapping.pairs.start[cfg_pair].value = map_id;
	} else {
		int kid = yaml_document_add_scalar(d, NULL, (yaml_char_t *)"config", -1, style_for("config", flow));
		if (!kid || !yaml_document_append_mapping_pair(d, ap_id, kid, map_id))
			return k8s__error_oom();
	}
	return 0;
}

/* target is absolute (realpath). */
static int write_atomic(const char *target, const char *data, size_t len, const struct stat *st)
{
	const char *slash = strrchr(target, '/');
	char *dir = k8s__strndup(target, slash == target ? 1 : (size_t)(slash - target));
	k8s_buf tmp = K8S_BUF_INIT;
	size_t off = 0;
	int fd, dfd, e = 0;

	if (!dir || k8s_buf_printf(&tmp, "%s%s.%s.tmp-XXXXXX", dir, slash == target ? "" : "/", slash + 1) < 0) {
		free(dir);
		k8s_buf_free(&tmp);
		return k8s__error_oom();
	}
	if ((fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0) {
		e = errno;
		free(dir);
		k8s_buf_free(&tmp);
		return k8s__kc_ferr(K8S_ERROR, target, NULL, NULL, 0, "cannot create a temporary file: %s", strerror(e));
	}
	if (fchown(fd, st->st_uid, st->st_gid) != 0) {
		/* only permitted when privileged; the new file then stays ours */
	}
	if (fchmod(fd, st->st_mode & 07777) != 0)
		e = errno;
	while (!e && off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno != EINTR)
			e = errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp.ptr, target) != 0)
		e = errno;
	if (e)
		unlink(tmp.ptr);
	else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(dfd) != 0) {
			/* the rename is done; a failed directory sync is not reported */
		}
		close(dfd);
	}
	free(dir);
	k8s_buf_free(&tmp);
	if (e)
		return k8s__kc_ferr(K8S_ERROR, target, NULL, NULL, 0, "cannot write: %s", strerror(e));
	return 0;
}

/* Strict UTF-8 (no overlong form, surrogate or code point past U+10FFFF):
 * libyaml refuses to add other text to a document, and would emit a
 * surrogate as an escape that no YAML reader accepts. */
static int utf8_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, k;
	for (; i < n; i += k)
		if (!(k = k8s_json_utf8_len(s + i, n - i)))
			return 0;
	return 1;
}

int k8s_clientcmd_persist_auth_provider(const char *file, const char *user, const char *const *kv, size_t npairs)
{
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	yaml_document_t *docs = NULL;
	size_t ndocs = 0, dumped = 0, i, len = 0;
	k8s_buf lock = K8S_BUF_INIT, outb = K8S_BUF_INIT;
	char *target = NULL, *data = NULL;
	struct stat st;
	int rc = 0, e, lfd, parser_ok = 0, emitter_ok = 0;

	if (empty(file) || empty(user) || (npairs && !kv))
		return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: persist needs a file, a user and key/value pairs");
	for (i = 0; i < 2 * npairs; i++)
		if (!kv[i])
			return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: persist: key/value %zu is NULL", i);
		else if (!utf8_ok(kv[i]))
			return k8s__error(K8S_EINVALID, "Invalid", "clientcmd: persist: key/value %zu is not valid UTF-8", i);
	if (!(target = realpath(file, NULL))) {
		e = errno;
		return k8s__kc_ferr(errno_code(e), file, NULL, NULL, 0, "cannot resolve the path: %s", strerror(e));
	}
	if (k8s_buf_printf(&lock, "%s.lock", file) < 0) {
		free(target);
		return K8S_ENOMEM;
	}
	if ((lfd = open(lock.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		e = errno;
		rc = k8s__kc_ferr(K8S_ERROR, file, NULL, NULL, 0, "cannot lock %s: %s", lock.ptr, strerror(e));
		k8s_buf_free(&lock);
		free(target);
		return rc;
	}
	close(lfd);

	e = stat(target, &st) != 0 ? errno : -slurp(target, &data, &len);
	if (e) {
		rc = k8s__kc_ferr(errno_code(e), file, NULL, NULL, 0, "cannot read the file: %s", strerror(e));
		goto done;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = k8s__error_oom();
		goto done;
	}
	parser_ok = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	for (;;) {
		yaml_document_t *nd = realloc(docs, (ndocs + 1) * sizeof(*docs));
		if (!nd) {
			rc = k8s__error_oom();
			goto done;
		}
		docs = nd;
		if (!yaml_parser_load(&parser, &docs[ndocs])) {
			rc = k8s__kc_parse_doc_error(&parser, file);
			goto done;
		}
		if (!yaml_document_get_root_node(&docs[ndocs])) {
			yaml_document_delete(&docs[ndocs]);
			break;
		}
		ndocs++;
	}
	if (!ndocs) {
		rc = k8s__kc_ferr(K8S_ENOTFOUND, file, NULL, NULL, 0, "user \"%s\" not found (the file is empty)", user);
		goto done;
	}
	if ((rc = rewrite_doc(&docs[0], file, user, kv, npairs)) < 0)
		goto done;

	if (!yaml_emitter_initialize(&emitter)) {
		rc = k8s__error_oom();
		goto done;
	}
	emitter_ok = 1;
	yaml_emitter_set_output(&emitter, emit_write, &outb);
	yaml_emitter_set_unicode(&emitter, 1);
	yaml_emitter_set_width(&emitter, -1);
	if (!yaml_emitter_open(&emitter))
		goto emit_error;
	for (; dumped < ndocs; dumped++)
		if (!yaml_emitter_dump(&emitter, &docs[dumped])) {
			dumped++; /* dump deletes the document even when it fails */
			goto emit_error;
		}
	if (!yaml_emitter_close(&emitter))
		goto emit_error;
	rc = write_atomic(target, outb.ptr ? outb.ptr : "", outb.len, &st);
	goto done;
emit_error:
	rc = emitter.error == YAML_MEMORY_ERROR ? k8s__error_oom()
						: k8s__kc_ferr(K8S_ERROR, file, NULL, NULL, 0, "cannot re-emit the file: %s",
							       emitter.problem ? emitter.problem : "emitter error");
done:
	for (i = dumped; i < ndocs; i++)
		yaml_document_delete(&docs[i]);
	free(docs);
	if (emitter_ok)
		yaml_emitter_delete(&emitter);
	if (parser_ok)
		yaml_parser_delete(&parser);
	if (outb.ptr)
		wipe_free(outb.ptr, outb.cap);
	wipe_free(data, len);
	unlink(lock.ptr);
	k8s_buf_free(&lock);
	free(target);
	return rc;
}
