/*
 * LD_PRELOAD shim for SyncEvolution 2.0.0's HTTP client on Debian 12, for the interop test
 * only (tests/interop/syncevo.sh; cat_sync.md B.8): that build hands C++ lambdas to the
 * variadic curl_easy_setopt, which arrive as NULL for CURLOPT_READFUNCTION and
 * CURLOPT_WRITEFUNCTION, so libcurl falls back to fread/fwrite on the agent object and the
 * client crashes. This wraps curl_easy_setopt: a NULL read/write function is replaced by one
 * that calls the agent's exported readData/writeData members, the agent being the READDATA /
 * WRITEDATA pointer libcurl passes back. Never part of seam itself.
 */
#define _GNU_SOURCE
#define CURL_DISABLE_TYPECHECK 1 /* the wrapper is curl_easy_setopt itself */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>

/* SyncEvo::CurlTransportAgent::readData(void *buffer, size_t size) and writeData (mangled). */
typedef size_t (*member_fn)(void *self, void *buffer, size_t size);

static size_t call_member(const char *name, char *buf, size_t size, size_t n, void *self) {
    member_fn fn = (member_fn)dlsym(RTLD_DEFAULT, name);
    return fn ? fn(self, buf, size * n) : 0;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *self) {
    return call_member("_ZN7SyncEvo18CurlTransportAgent8readDataEPvm", buf, size, n, self);
}

static size_t write_cb(char *buf, size_t size, size_t n, void *self) {
    return call_member("_ZN7SyncEvo18CurlTransportAgent9writeDataEPvm", buf, size, n, self);
}

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...) {
    static CURLcode (*next)(CURL *, CURLoption, ...);
    if (!next)
        next = (CURLcode(*)(CURL *, CURLoption, ...))dlsym(RTLD_NEXT, "curl_easy_setopt");
    va_list ap;
    va_start(ap, option);
    void *arg = va_arg(ap, void *); /* every option SyncEvolution sets is one pointer or long */
    va_end(ap);
    if (option == CURLOPT_READFUNCTION && !arg)
        return next(curl, option, read_cb);
    if (option == CURLOPT_WRITEFUNCTION && !arg)
        return next(curl, option, write_cb);
    return next(curl, option, arg);
}
