rockspec_format = "3.0"
package = "k8s-lua"
version = "scm-1"
source = {
   url = "git+https://example.invalid/k8s-lua.git",
}
description = {
   summary = "Kubernetes client for Lua with a C core, modelled on client-go",
   detailed = [[
      Config, RESTClient and Clientset implemented in C (libcurl, OpenSSL,
      libyaml, jansson), with a thin Lua binding:
      clientset:CoreV1():Pods("ns"):Get("name").
   ]],
   license = "Apache-2.0",
   labels = { "kubernetes", "k8s", "client" },
}
dependencies = {
   "lua >= 5.1",
}
external_dependencies = {
   CURL = { library = "curl" },
   OPENSSL = { header = "openssl/ssl.h", library = "ssl" },
   YAML = { header = "yaml.h", library = "yaml" },
   JANSSON = { header = "jansson.h", library = "jansson" },
   HTTP_PARSER = { header = "http_parser.h", library = "http_parser" },
   ZLIB = { header = "zlib.h", library = "z" },
}
build = {
   type = "builtin",
   modules = {
      ["k8s.core"] = {
         sources = {
            "src/buf.c",
            "src/call.c",
            "src/clientset.c",
            "src/config.c",
            "src/error.c",
            "src/exec.c",
            "src/global.c",
            "src/h1.c",
            "src/http_head.c",
            "src/jsonscan.c",
            "src/kubeconfig.c",
            "src/proto.c",
            "src/proto_schema_gen.c",
            "src/ratelimit.c",
            "src/reason.c",
            "src/resources_gen.c",
            "src/rest.c",
            "src/rest_exec.c",
            "src/result.c",
            "src/spawn.c",
            "src/tls.c",
            "src/transport_curl.c",
            "src/watch.c",
            "src/wire.c",
            "src/lua/auth.c",
            "src/lua/call.c",
            "src/lua/clientset.c",
            "src/lua/codec.c",
            "src/lua/core.c",
            "src/lua/json.c",
            "src/lua/protobuf.c",
            "src/lua/sock.c",
            "src/lua/yaml.c",
         },
         defines = { "_GNU_SOURCE" },
         incdirs = { "include", "src", "src/lua", "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)", "$(YAML_INCDIR)", "$(JANSSON_INCDIR)", "$(HTTP_PARSER_INCDIR)", "$(ZLIB_INCDIR)" },
         libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)", "$(YAML_LIBDIR)", "$(JANSSON_LIBDIR)", "$(HTTP_PARSER_LIBDIR)", "$(ZLIB_LIBDIR)" },
         libraries = { "curl", "jansson", "yaml", "http_parser", "z", "ssl", "crypto", "pthread" },
      },
      ["k8s.clientcmd"] = "lua/k8s/clientcmd.lua",
      ["k8s.discovery"] = "lua/k8s/discovery.lua",
      ["k8s.dynamic"] = "lua/k8s/dynamic.lua",
      ["k8s.errors"] = "lua/k8s/errors.lua",
      ["k8s"] = "lua/k8s/init.lua",
      ["k8s.kubernetes"] = "lua/k8s/kubernetes.lua",
      ["k8s.ngx"] = "lua/k8s/ngx.lua",
      ["k8s.driver"] = "lua/k8s/driver.lua",
      ["k8s.drive"] = "lua/k8s/drive.lua",
      ["k8s.loop"] = "lua/k8s/loop.lua",
      ["k8s.runtime"] = "lua/k8s/runtime.lua",
      ["k8s.cache"] = "lua/k8s/cache.lua",
      ["k8s.labels"] = "lua/k8s/labels.lua",
      ["k8s.reflector"] = "lua/k8s/reflector.lua",
      ["k8s.informers"] = "lua/k8s/informers.lua",
      ["k8s.ngxinformer"] = "lua/k8s/ngxinformer.lua",
      ["k8s.leaderelection"] = "lua/k8s/leaderelection.lua",
      ["k8s.resourcelock"] = "lua/k8s/resourcelock.lua",
      ["k8s.pager"] = "lua/k8s/pager.lua",
      ["k8s.rest"] = "lua/k8s/rest.lua",
      ["k8s.restmapper"] = "lua/k8s/restmapper.lua",
      ["k8s.apply"] = "lua/k8s/apply.lua",
      ["k8s.retry"] = "lua/k8s/retry.lua",
      ["k8s.wait"] = "lua/k8s/wait.lua",
   },
}
