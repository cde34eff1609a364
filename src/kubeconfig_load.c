/* ClientConfigLoadingRules.Load: which files are read (an explicit path,
 * else the files of $KUBECONFIG, else ~/.kube/config), and reading one into
 * a libyaml document that kubeconfig_merge.c adds to the merged config. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kubeconfig_internal.h"

/* The absolute directory of a file (filepath.Abs(filepath.Dir(path))). */
static char *abs_dir(const char *path)
{
	k8s_buf b = K8S_BUF_INIT;
	char *clean, *slash;
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return NULL;
		if (k8s_buf_puts(&b, cwd) < 0 || k8s_buf_puts(&b, "/") < 0) {
			free(cwd);
			k8s_buf_free(&b);
			return NULL;
		}
		free(cwd);
	}
	if (k8s_buf_puts(&b, path) < 0) {
		k8s_buf_free(&b);
		return NULL;
	}
	clean = k8s__path_clean(b.ptr);
	k8s_buf_free(&b);
	if (!clean)
		return NULL;
	slash = strrchr(clean, '/');
	if (slash == clean)
		clean[1] = 0;
	else if (slash)
		*slash = 0;
	return clean;
}

int k8s__kc_parse_doc_error(yaml_parser_t *parser, const char *file)
{
	const char *problem = parser->problem ? parser->problem : "parse error";
	if (parser->error == YAML_MEMORY_ERROR)
		return k8s__error_oom();
	if (parser->error == YAML_READER_ERROR)
		return k8s__kc_ferr(K8S_EINVALID, file, NULL, NULL, 0, "not valid YAML or JSON: byte %zu: %s",
				    parser->problem_offset, problem);
	return k8s__kc_ferr(K8S_EINVALID, file, NULL, NULL, 0, "not valid YAML or JSON: line %zu, column %zu: %s%s%s",
			    parser->problem_mark.line + 1, parser->problem_mark.column + 1, problem,
			    parser->context ? " " : "", parser->context ? parser->context : "");
}

/* Load one file into the merge. A missing file is skipped (0, not added). */
static int load_file(kc_merged *m, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	char *data = NULL, *dir = NULL, *fname;
	size_t len;
	int rc, e;

	if ((e = slurp(path, &data, &len)) == -ENOENT)
		return 0;
	if (e < 0)
		return k8s__kc_ferr(errno_code(-e), path, NULL, NULL, 0, "cannot read the file: %s", strerror(-e));
	if (!(fname = k8s__strdup(path)) || k8s__kc_push_str(&m->files, &m->nfiles, fname) < 0) {
		free(fname);
		wipe_free(data, len);
		return k8s__error_oom();
	}
	errno = 0;
	if (!(dir = abs_dir(path))) {
		e = errno;
		wipe_free(data, len);
		if (!e || e == ENOMEM)
			return k8s__error_oom();
		return k8s__kc_ferr(K8S_ERROR, path, NULL, NULL, 0, "cannot determine the absolute directory: %s", strerror(e));
	}
	if (!yaml_parser_initialize(&parser)) {
		free(dir);
		wipe_free(data, len);
		return k8s__error_oom();
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = k8s__kc_parse_doc_error(&parser, fname);
		yaml_parser_delete(&parser);
		free(dir);
		wipe_free(data, len);
		return rc;
	}
	rc = k8s__kc_merge_doc(m, &doc, fname, dir);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(dir);
	wipe_free(data, len);
	return rc;
}

/* ClientConfigLoadingRules.Load */
int k8s__kc_load_files(kc_merged *m, const char *explicit_path, int default_rules)
{
	struct stat st;
	if (!empty(explicit_path)) {
		if (stat(explicit_path, &st) < 0 && errno == ENOENT)
			return k8s__kc_ferr(K8S_ENOTFOUND, explicit_path, NULL, NULL, 0, "the kubeconfig file does not exist");
		return load_file(m, explicit_path);
	}
	if (!default_rules)
		return 0;
	if (!empty(getenv("KUBECONFIG"))) {
		char *list = k8s__strdup(getenv("KUBECONFIG")), *save = NULL, *tok;
		char **seen = NULL;
		size_t nseen = 0, i;
		int rc = 0;
		if (!list)
			return k8s__error_oom();
		for (tok = strtok_r(list, ":", &save); tok && !rc; tok = strtok_r(NULL, ":", &save)) {
			for (i = 0; i < nseen && strcmp(seen[i], tok); i++)
				;
			if (i < nseen)
				continue;
			if ((rc = k8s__kc_push_str(&seen, &nseen, tok)) == 0)
				rc = load_file(m, tok);
		}
		free(seen);
		free(list);
		return rc;
	}
	if (!empty(getenv("HOME"))) {
		k8s_buf b = K8S_BUF_INIT;
		int rc;
		if (k8s_buf_printf(&b, "%s/.kube/config", getenv("HOME")) < 0)
			return K8S_ENOMEM;
		rc = load_file(m, b.ptr);
		k8s_buf_free(&b);
		return rc;
	}
	return 0;
}
