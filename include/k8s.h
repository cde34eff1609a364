/**
 * @file k8s.h
 * @brief libk8s: a Kubernetes client core in C, modelled on client-go.
 *
 * Umbrella header: include this one. Modules:
 *  - k8s/common.h     return codes, last error, global init
 *  - k8s/ratelimit.h  token-bucket rate limiter (flowcontrol)
 *  - k8s/config.h     rest.Config
 *  - k8s/rest.h       RESTClient, Request, Result, Stream, Watch
 *  - k8s/watch.h      watch stream framing
 *  - k8s/clientset.h  Clientset, resource table, typed and dynamic requests
 *  - k8s/clientcmd.h  kubeconfig loading, in-cluster config
 */
#ifndef K8S_H
#define K8S_H

#include "k8s/common.h"
#include "k8s/ratelimit.h"
#include "k8s/watch.h"
#include "k8s/config.h"
#include "k8s/rest.h"
#include "k8s/call.h"
#include "k8s/clientcmd.h"
#include "k8s/clientset.h"

#endif
