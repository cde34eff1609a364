#ifndef K8S_CLIENTSET_INTERNAL_H
#define K8S_CLIENTSET_INTERNAL_H
#include "internal.h"
#include "k8s/clientset.h"

extern const k8s_api_resource k8s__resources[];
extern const size_t k8s__resources_count;
extern const char k8s__resources_server_version[];

#endif
