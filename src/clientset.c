/* The Clientset: one RESTClient per group-version (made on first use), one
 * shared transport, and client-go's rate limiter sharing rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clientset_internal.h"
#include "rest_internal.h"
#include "exec.h"
#include "proto.h"
#include "jsonscan.h"

typedef struct {
	char *group, *version;
	k8s_rest_client *rc;
} gv_client;

struct k8s_clientset {
	k8s_config *cfg;          /* validated copy, with a shared limiter if QPS > 0 */
	k8s_transport *transport; /* from the first client made */
	gv_client *clients;
	size_t n;
	k8s_rest_client *discovery;
};

const k8s_api_resource *k8s_api_resource_at(size_t i)
{
	return i < k8s__resources_count ? &k8s__resources[i] : NULL;
}

const k8s_api_resource *k8s_api_resource_lookup(const char *gv_method, const char *method)
{
	size_t i;
	for (i = 0; i < k8s__resources_count; i++)
		if (!strcmp(k8s__resources[i].gv_method, gv_method) && !strcmp(k8s__resources[i].method, method))
			return &k8s__resources[i];
	return NULL;
}

const k8s_api_resource *k8s_api_resource_find(const char *group, const char *version, const char *name)
{
	size_t i;
	for (i = 0; i < k8s__resources_count; i++)
		if (!strcmp(k8s__resources[i].group, group ? group : "") && !strcmp(k8s__resources[i].version, version) &&
		    !strcmp(k8s__resources[i].name, name))
			return &k8s__resources[i];
	return NULL;
}

int k8s_api_resource_has_subresource(const k8s_api_resource *res, const char *sub)
{
	const char *p = res->subresources;
	size_t n = strlen(sub);
	if (!p)
		return 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncmp(p, sub, n))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

const char *k8s_api_resources_server_version(void)
{
	return k8s__resources_server_version;
}

static int client_for(k8s_rest_client **out, k8s_clientset *cs, const char *group, const char *version);

int k8s_clientset_new(k8s_clientset **out, const k8s_config *cfg)
{
	k8s_clientset *cs;
	int rc;
	double qps = k8s_config_get_number(cfg, "QPS");
	*out = NULL;
	if ((rc = k8s_config_validate(cfg)) < 0)
		return rc;
	if (!(cs = calloc(1, sizeof(*cs))))
		return k8s__error_oom();
	if ((rc = k8s_config_copy(&cs->cfg, cfg)) < 0) {
		free(cs);
		return rc;
	}
	/* one exec plugin (and its credential cache) for all group clients */
	if ((rc = k8s__exec_attach(cs->cfg)) < 0) {
		k8s_clientset_free(cs);
		return rc;
	}
	if (!k8s_config_get_rate_limiter(cfg) && qps > 0) {
		k8s_rate_limiter *rl;
		double burst = k8s_config_get_number(cfg, "Burst");
		if (burst <= 0) {
			k8s_clientset_free(cs);
			return k8s__error(K8S_EINVALID, "Invalid", "config: Burst is required to be greater than 0 when QPS is set");
		}
		if ((rc = k8s_rate_limiter_new_token_bucket(&rl, qps, (int)burst)) < 0) {
			k8s_clientset_free(cs);
			return rc;
		}
		k8s_config_set_rate_limiter(cs->cfg, rl);
		k8s_rate_limiter_free(rl);
	}
	/* build the core client now so that an invalid Host is reported here */
	{
		k8s_rest_client *core;
		if ((rc = client_for(&core, cs, "", "v1")) < 0) {
			k8s_clientset_free(cs);
			return rc;
		}
	}
	*out = cs;
	return 0;
}

void k8s_clientset_free(k8s_clientset *cs)
{
	size_t i;
	if (!cs)
		return;
	for (i = 0; i < cs->n; i++) {
		k8s_rest_client_free(cs->clients[i].rc);
		free(cs->clients[i].group);
		free(cs->clients[i].version);
	}
	free(cs->clients);
	k8s_rest_client_free(cs->discovery);
	k8s_transport_free(cs->transport);
	k8s_config_free(cs->cfg);
	free(cs);
}

/* The clientset's client for group/version, made on first use; *out is
 * borrowed (the clientset keeps it). */
static int client_for(k8s_rest_client **out, k8s_clientset *cs, const char *group, const char *version)
{
	size_t i;
	k8s_config *gcfg;
	k8s_rest_client *rc;
	gv_client *grown;
	int r;
	*out = NULL;
	if (!group)
		group = "";
	for (i = 0; i < cs->n; i++) {
		if (!strcmp(cs->clients[i].group, group) && !strcmp(cs->clients[i].version, version)) {
			*out = cs->clients[i].rc;
			return 0;
		}
	}
	if ((r = k8s_rest_config_for_group_version(&gcfg, cs->cfg, group, version)) < 0)
		return r;
	/* client-go's typed clients speak protobuf unless ContentType is set;
	 * here only for the group-versions the protobuf table knows */
	if (!k8s_config_get_string(gcfg, "ContentConfig.ContentType") && k8s__pb_knows_group_version(group, version) &&
	    (r = k8s_config_set_string(gcfg, "ContentConfig.ContentType", K8S_PB_CONTENT_TYPE)) < 0) {
		k8s_config_free(gcfg);
		return r;
	}
	r = k8s__rest_client_new(&rc, gcfg, 1, cs->transport);
	k8s_config_free(gcfg);
	if (r < 0)
		return r;
	if (!cs->transport)
		cs->transport = k8s_transport_ref(k8s__rest_client_transport(rc));
	if (!(grown = realloc(cs->clients, (cs->n + 1) * sizeof(*grown)))) {
		k8s_rest_client_free(rc);
		return k8s__error_oom();
	}
	cs->clients = grown;
	grown[cs->n].group = k8s__strdup(group);
	grown[cs->n].version = k8s__strdup(version);
	grown[cs->n].rc = rc;
	if (!grown[cs->n].group || !grown[cs->n].version) {
		free(grown[cs->n].group);
		free(grown[cs->n].version);
		k8s_rest_client_free(rc);
		return k8s__error_oom();
	}
	cs->n++;
	*out = rc;
	return 0;
}

int k8s_clientset_for_group_version(k8s_rest_client **out, k8s_clientset *cs, const char *group, const char *version)
{
	int rc = client_for(out, cs, group, version);
	if (rc == 0)
		k8s_rest_client_ref(*out);
	return rc;
}

int k8s_clientset_group_version(k8s_rest_client **out, k8s_clientset *cs, const char *gv_method)
{
	size_t i;
	*out = NULL;
	for (i = 0; i < k8s__resources_count; i++)
		if (!strcmp(k8s__resources[i].gv_method, gv_method))
			return k8s_clientset_for_group_version(out, cs, k8s__resources[i].group, k8s__resources[i].version);
	return k8s__error(K8S_ENOTFOUND, "NotFound", "no group-version named %s", gv_method);
}

int k8s_clientset_discovery(k8s_rest_client **out, k8s_clientset *cs)
{
	k8s_config *dcfg;
	int r;
	*out = NULL;
	if (cs->discovery) {
		*out = k8s_rest_client_ref(cs->discovery);
		return 0;
	}
	if ((r = k8s_config_copy(&dcfg, cs->cfg)) < 0)
		return r;
	/* discovery.NewDiscoveryClientForConfig: Burst 300, Timeout 32s when unset;
	 * its own limiter unless one was given explicitly */
	if (!k8s_config_get_rate_limiter(cs->cfg) || k8s_config_get_number(cs->cfg, "QPS") > 0)
		k8s_config_set_rate_limiter(dcfg, NULL);
	if (k8s_config_get_number(dcfg, "Burst") <= 0)
		k8s_config_set_number(dcfg, "Burst", 300);
	if (k8s_config_get_number(dcfg, "Timeout") <= 0)
		k8s_config_set_number(dcfg, "Timeout", 32);
	k8s_config_clear(dcfg, "ContentConfig.GroupVersion");
	r = k8s__rest_client_new(&cs->discovery, dcfg, 0, cs->transport);
	k8s_config_free(dcfg);
	if (r < 0)
		return r;
	*out = k8s_rest_client_ref(cs->discovery);
	return 0;
}

static const char *verb_name(k8s_verb v)
{
	switch (v) {
	case K8S_VERB_GET: return "get";
	case K8S_VERB_LIST: return "list";
	case K8S_VERB_CREATE: return "create";
	case K8S_VERB_UPDATE: return "update";
	case K8S_VERB_PATCH: return "patch";
	case K8S_VERB_DELETE: return "delete";
	case K8S_VERB_DELETECOLLECTION: return "deletecollection";
	case K8S_VERB_WATCH: return "watch";
	default: return "?";
	}
}

int k8s_resource_request(k8s_request **out, k8s_rest_client *rc, const k8s_api_resource *res, const char *ns,
			 k8s_verb verb, const char *name, const char *subresource)
{
	const char *method;
	k8s_request *r;
	int needs_name = 0, rcode;
	*out = NULL;
	if (!(res->verbs & verb) && !(subresource && *subresource))
		return k8s__error(K8S_EINVALID, "MethodNotAllowed", "%s%s%s does not support the verb \"%s\"", res->name,
				  *res->group ? "." : "", res->group, verb_name(verb));
	switch (verb) {
	case K8S_VERB_GET: method = "GET"; needs_name = 1; break;
	case K8S_VERB_LIST: case K8S_VERB_WATCH: method = "GET"; break;
	case K8S_VERB_CREATE: method = "POST"; break;
	case K8S_VERB_UPDATE: method = "PUT"; needs_name = 1; break;
	case K8S_VERB_PATCH: method = "PATCH"; needs_name = 1; break;
	case K8S_VERB_DELETE: method = "DELETE"; needs_name = 1; break;
	case K8S_VERB_DELETECOLLECTION: method = "DELETE"; break;
	default:
		return k8s__error(K8S_EINVALID, "Invalid", "unknown verb");
	}
	if (needs_name && (!name || !*name))
		return k8s__error(K8S_EINVALID, "Invalid", "%s: resource name may not be empty", verb_name(verb));
	if (res->namespaced && (!ns || !*ns) && verb != K8S_VERB_LIST && verb != K8S_VERB_WATCH &&
	    verb != K8S_VERB_DELETECOLLECTION)
		return k8s__error(K8S_EINVALID, "Invalid", "%s %s: a namespace is required for a namespaced resource",
				  verb_name(verb), res->name);
	if (subresource && *subresource && !k8s_api_resource_has_subresource(res, subresource) &&
	    !(res->subresources && *res->subresources == '*'))
		return k8s__error(K8S_EINVALID, "Invalid", "%s has no %s subresource", res->name, subresource);
	/* a POST to a named object's subresource (eviction, token) */
	if (verb == K8S_VERB_CREATE && subresource && *subresource && (!name || !*name))
		return k8s__error(K8S_EINVALID, "Invalid", "create %s/%s: resource name may not be empty", res->name,
				  subresource);
	if ((rcode = k8s_rest_client_verb(&r, rc, method)) < 0)
		return rcode;
	if ((res->namespaced && ns && *ns && (rcode = k8s_request_namespace(r, ns)) < 0) ||
	    (rcode = k8s_request_resource(r, res->name)) < 0 ||
	    (name && *name && (rcode = k8s_request_name(r, name)) < 0) ||
	    (subresource && *subresource && (rcode = k8s_request_subresource(r, subresource)) < 0)) {
		k8s_request_free(r);
		return rcode;
	}
	*out = r;
	return 0;
}

/* The kinds of the subresources whose bodies are not the resource's own
 * (client-go's typed clients encode these). */
static const struct {
	const char *sub, *kind, *api_version;
} sub_kinds[] = {
	{"scale", "Scale", "autoscaling/v1"},
	{"eviction", "Eviction", "policy/v1"},
	{"token", "TokenRequest", "authentication.k8s.io/v1"},
};

int k8s_resource_set_object(k8s_request *r, const k8s_api_resource *res, const char *subresource, const char *json,
			    size_t len)
{
	const char *kind = res->kind, *key, *v;
	char gv[256];
	size_t i, klen, vlen, at = 0;
	int has_av = 0, has_kind = 0, rc;
	k8s_buf b = K8S_BUF_INIT;
	if (*res->group)
		snprintf(gv, sizeof(gv), "%s/%s", res->group, res->version);
	else
		snprintf(gv, sizeof(gv), "%s", res->version);
	for (i = 0; subresource && *subresource && i < sizeof(sub_kinds) / sizeof(sub_kinds[0]); i++) {
		if (!strcmp(subresource, sub_kinds[i].sub)) {
			kind = sub_kinds[i].kind;
			snprintf(gv, sizeof(gv), "%s", sub_kinds[i].api_version);
		}
	}
	if (!kind || !*kind) /* dynamic: the object carries its own */
		return k8s_request_body(r, json, len);
	/* one pass over the top-level members, which also checks the object */
	while ((rc = k8s_json_object_next(json, len, &at, &key, &klen, &v, &vlen)) == 1) {
		has_av |= k8s_json_raw_equal(key, klen, "apiVersion");
		has_kind |= k8s_json_raw_equal(key, klen, "kind");
	}
	if (rc < 0)
		return k8s__error(K8S_EINVALID, "Invalid", "%s: the object body is not a JSON object", res->name);
	if (has_av && has_kind)
		return k8s_request_body(r, json, len);
	/* apiVersion and kind first, then the members as they were */
	at = k8s_json_skip_ws(json, len, 0) + 1;
	rc = k8s_buf_put(&b, "{", 1);
	if (rc == 0 && !has_av)
		rc = k8s_buf_printf(&b, "\"apiVersion\":\"%s\",", gv);
	if (rc == 0 && !has_kind)
		rc = k8s_buf_printf(&b, "\"kind\":\"%s\",", kind);
	if (rc == 0 && json[k8s_json_skip_ws(json, len, at)] == '}')
		b.len--; /* an empty object: no member follows */
	if (rc == 0)
		rc = k8s_buf_put(&b, json + at, len - at);
	rc = rc < 0 ? k8s__error_oom() : k8s_request_body(r, b.ptr, b.len);
	k8s_buf_free(&b);
	return rc;
}

int k8s_resource_apply_request(k8s_request **out, k8s_rest_client *rc, const k8s_api_resource *res, const char *ns,
			       const char *name, const char *subresource, const char *field_manager, int force)
{
	k8s_request *r;
	int code;
	*out = NULL;
	if (!field_manager || !*field_manager)
		return k8s__error(K8S_EINVALID, "Invalid", "fieldManager is required for server-side apply");
	if ((code = k8s_resource_request(&r, rc, res, ns, K8S_VERB_PATCH, name, subresource)) < 0)
		return code;
	if ((code = k8s_request_set_header(r, "Content-Type", K8S_APPLY_PATCH)) < 0 ||
	    (code = k8s_request_param(r, "fieldManager", field_manager)) < 0 ||
	    (force && (code = k8s_request_param(r, "force", "true")) < 0)) {
		k8s_request_free(r);
		return code;
	}
	*out = r;
	return 0;
}
