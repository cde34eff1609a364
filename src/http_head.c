/* Response heads: status and headers, shared by every transport. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "transport.h"

const char *k8s__http_head_get_n(const k8s_http_head *h, const char *name, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < h->nrh; i += 2)
		if (strcasecmp(h->rh[i], name) == 0 && n-- == 0)
			return h->rh[i + 1];
	return NULL;
}

const char *k8s__http_head_get(const k8s_http_head *h, const char *name)
{
	const char *last = NULL;
	size_t i;
	for (i = 0; i + 1 < h->nrh; i += 2)
		if (strcasecmp(h->rh[i], name) == 0)
			last = h->rh[i + 1];
	return last;
}

int k8s__http_head_add(k8s_http_head *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
	char **rh;
	while (vlen && (*value == ' ' || *value == '\t'))
		value++, vlen--;
	while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t' || value[vlen - 1] == '\r' ||
			value[vlen - 1] == '\n'))
		vlen--;
	if (!(rh = realloc(h->rh, (h->nrh + 2) * sizeof(char *))))
		return K8S_ENOMEM;
	h->rh = rh;
	rh[h->nrh] = k8s__strndup(name, nlen);
	rh[h->nrh + 1] = k8s__strndup(value, vlen);
	if (!rh[h->nrh] || !rh[h->nrh + 1]) {
		free(rh[h->nrh]);
		free(rh[h->nrh + 1]);
		return K8S_ENOMEM;
	}
	h->nrh += 2;
	return 0;
}

void k8s__http_head_clear(k8s_http_head *h)
{
	size_t i;
	for (i = 0; i < h->nrh; i++)
		free(h->rh[i]);
	free(h->rh);
	h->rh = NULL;
	h->nrh = 0;
	h->status = 0;
}
