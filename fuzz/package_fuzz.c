/*
 * libFuzzer target for the package metadata parser (src/card/applet/package.c): raw
 * bytes are the contents of a "seam.package" section. A success must describe
 * a package that the parser's own rules accept.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "card/applet/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_package_info info;
    if (seam_package_parse(data, size, &info) == SEAM_OK) {
        assert(info.aid.len >= SEAM_PACKAGE_AID_MIN && info.aid.len <= SEAM_PACKAGE_AID_MAX);
        assert(info.aid.bytes >= data && info.aid.bytes + info.aid.len <= data + size);
        assert(info.applet_count >= 1 && info.applet_count <= SEAM_PACKAGE_MAX_APPLETS);
        assert(info.platform_version <= SEAM_PLATFORM_VERSION);
        for (size_t i = 0; i < info.applet_count; i++) {
            assert(info.applets[i].bytes >= data &&
                   info.applets[i].bytes + info.applets[i].len <= data + size);
            assert(seam_package_has_applet(&info, info.applets[i].bytes, info.applets[i].len));
        }
    }
    return 0;
}
