/* Merging the kubeconfig files in loading order (clientcmd's merge): the
 * first file that sets current-context wins it, the first file that defines
 * a named cluster, user or context wins that whole entry, and a name defined
 * twice in one file is an error. */
#include <stdlib.h>
#include <string.h>
#include "kubeconfig_internal.h"

enum { K_CLUSTER, K_USER, K_CONTEXT };
static const char *const kind_names[] = {"cluster", "user", "context"};
static const char *const section_names[] = {"clusters", "users", "contexts"};

static int same_scalar(const yaml_node_t *a, const yaml_node_t *b)
{
	return a && b && a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
	       a->data.scalar.length == b->data.scalar.length &&
	       !memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length);
}

static int parse_section(kc_merged *m, yaml_document_t *d, const char *file, const char *dir,
			 yaml_node_t *seq, int kind)
{
	pctx top = {d, file, NULL, NULL};
	yaml_node_item_t *it, *jt;
	int rc;
	if (ynull(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return k8s__kc_perr(&top, seq, "%s must be a list", section_names[kind]);
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *item = ynode(d, *it), *nn;
		char *name = NULL;
		pctx p = top;
		void *entry;
		if (!item || item->type != YAML_MAPPING_NODE)
			return k8s__kc_perr(&top, item, "%s entries must be mappings with a name and a %s",
					    section_names[kind], kind_names[kind]);
		nn = k8s__kc_map_get(d, item, "name");
		if ((rc = k8s__kc_get_str(&top, nn, "name", &name)) < 0)
			return rc;
		if (!name)
			continue; /* cannot be referenced */
		for (jt = seq->data.sequence.items.start; jt < it; jt++)
			if (same_scalar(k8s__kc_map_get(d, ynode(d, *jt), "name"), nn)) {
				rc = k8s__kc_perr(&top, nn, "duplicate %s name \"%s\" in %s", kind_names[kind], name,
						  section_names[kind]);
				free(name);
				return rc;
			}
		p.kind = kind_names[kind];
		p.name = name;
		entry = calloc(1, kind == K_CLUSTER ? sizeof(kc_cluster) : kind == K_USER ? sizeof(kc_user)
											       : sizeof(kc_context));
		if (!entry) {
			free(name);
			return k8s__error_oom();
		}
		if (kind == K_CLUSTER) {
			kc_cluster *c = entry;
			c->name = name;
			c->file = file;
			rc = k8s__kc_parse_cluster(&p, k8s__kc_map_get(d, item, "cluster"), c, dir);
			if (rc < 0 || k8s__kc_find_cluster(m, name))
				k8s__kc_cluster_free(c);
			else if ((rc = k8s__kc_push_cluster(&m->clusters, &m->ncl, c)) < 0)
				k8s__kc_cluster_free(c);
		} else if (kind == K_USER) {
			kc_user *u = entry;
			u->name = name;
			u->file = file;
			rc = k8s__kc_parse_user(&p, k8s__kc_map_get(d, item, "user"), u, dir);
			if (rc < 0 || k8s__kc_find_user(m, name))
				k8s__kc_user_free(u);
			else if ((rc = k8s__kc_push_user(&m->users, &m->nus, u)) < 0)
				k8s__kc_user_free(u);
		} else {
			kc_context *c = entry;
			c->name = name;
			c->file = file;
			rc = k8s__kc_parse_context(&p, k8s__kc_map_get(d, item, "context"), c);
			if (rc < 0 || k8s__kc_find_context(m, name))
				k8s__kc_context_free(c);
			else if ((rc = k8s__kc_push_context(&m->contexts, &m->nctx, c)) < 0)
				k8s__kc_context_free(c);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Add one file's document to the merge; an empty document adds nothing. */
int k8s__kc_merge_doc(kc_merged *m, yaml_document_t *doc, const char *fname, const char *dir)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	int rc = 0;

	if (root && !ynull(root)) {
		pctx top = {doc, fname, NULL, NULL};
		if (root->type != YAML_MAPPING_NODE) {
			rc = k8s__kc_perr(&top, root, "not a kubeconfig: the top level must be a mapping");
		} else {
			char *cc = NULL;
			rc = k8s__kc_get_str(&top, k8s__kc_map_get(doc, root, "current-context"), "current-context", &cc);
			if (rc == 0 && cc && !m->current_context) {
				m->current_context = cc;
				m->cc_file = fname;
				cc = NULL;
			}
			free(cc);
			if (rc == 0)
				rc = parse_section(m, doc, fname, dir, k8s__kc_map_get(doc, root, "clusters"), K_CLUSTER);
			if (rc == 0)
				rc = parse_section(m, doc, fname, dir, k8s__kc_map_get(doc, root, "users"), K_USER);
			if (rc == 0)
				rc = parse_section(m, doc, fname, dir, k8s__kc_map_get(doc, root, "contexts"), K_CONTEXT);
		}
	}
	return rc;
}
