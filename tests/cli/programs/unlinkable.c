/* Imports a WASI function that does not exist, so linking the module must fail. */
#include <stdint.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("no_such_call"))) int32_t
no_such_call(void);

int main(void) {
    return no_such_call();
}
