#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static _Thread_local char err_message[1024];
static _Thread_local char err_reason[64];
static _Thread_local k8s_error err_last = {0, "", ""};

const k8s_error *k8s_error_last(void)
{
	err_last.reason = err_reason;
	err_last.message = err_message;
	return &err_last;
}

void k8s_error_clear(void)
{
	err_last.code = 0;
	err_reason[0] = 0;
	err_message[0] = 0;
}

int k8s__error(int code, const char *reason, const char *fmt, ...)
{
	va_list ap;
	err_last.code = code;
	snprintf(err_reason, sizeof(err_reason), "%s", reason ? reason : "");
	va_start(ap, fmt);
	vsnprintf(err_message, sizeof(err_message), fmt, ap);
	va_end(ap);
	return code;
}

int k8s__error_oom(void)
{
	return k8s__error(K8S_ENOMEM, "OutOfMemory", "out of memory");
}
