/*
 * Syntax-only decoding of instructions: reads each instruction's immediates
 * without typing anything. The specification decodes a whole module before
 * validating it, so a body that is both invalid and malformed is malformed;
 * the validator re-reads an invalid body with this to find out.
 */
#include "internal.h"
#include "reader.h"

bool wasm_skim_instruction(reader *r, uint8_t opcode, int *depth) {
    uint32_t a, n;
    int64_t s;
    uint8_t b;
    const uint8_t *bytes;
    switch (opcode) {
    case 0x02:
    case 0x03:
    case 0x04:
        if (r->pos < r->end && (r->bytes[r->pos] == 0x40 || r->bytes[r->pos] >= 0x6f)) {
            r->pos++;
        } else if (!rd_sleb(r, 33, &s)) {
            return false;
        }
        ++*depth;
        return true;
    case 0x0b:
        --*depth;
        return true;
    case 0x0c:
    case 0x0d:
    case 0x10:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0xd2:
        return rd_u32(r, &a);
    case 0x0e:
        if (!rd_u32(r, &n))
            return false;
        for (uint64_t i = 0; i <= n; i++)
            if (!rd_u32(r, &a))
                return false;
        return true;
    case 0x11:
        return rd_u32(r, &a) && rd_u32(r, &a);
    case 0x1c:
        if (!rd_u32(r, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!rd_u8(r, &b))
                return false;
        return true;
    case 0x3f:
    case 0x40:
    case 0xd0:
        return rd_u8(r, &b);
    case 0x41:
        return rd_sleb(r, 32, &s);
    case 0x42:
        return rd_sleb(r, 64, &s);
    case 0x43:
        return rd_bytes(r, 4, &bytes);
    case 0x44:
        return rd_bytes(r, 8, &bytes);
    case 0xfc:
        if (!rd_u32(r, &n))
            return false;
        switch (n) {
        case 8:
            return rd_u32(r, &a) && rd_u8(r, &b);
        case 9:
        case 13:
        case 15:
        case 16:
        case 17:
            return rd_u32(r, &a);
        case 10:
            return rd_u8(r, &b) && rd_u8(r, &b);
        case 11:
            return rd_u8(r, &b);
        case 12:
        case 14:
            return rd_u32(r, &a) && rd_u32(r, &a);
        default:
            return n <= 7 || rd_fail(r, "illegal opcode");
        }
    default:
        if (opcode >= 0x28 && opcode <= 0x3e)
            return rd_u32(r, &a) && rd_u32(r, &a);
        if (opcode <= 0x01 || opcode == 0x05 || opcode == 0x0f || opcode == 0x1a ||
            opcode == 0x1b || (opcode >= 0x45 && opcode <= 0xc4) || opcode == 0xd1)
            return true;
        return rd_fail(r, "illegal opcode");
    }
}

bool wasm_skim_body(reader *r) {
    int depth = 1;
    while (depth > 0) {
        uint8_t opcode;
        if (!rd_u8(r, &opcode) || !wasm_skim_instruction(r, opcode, &depth))
            return false;
    }
    return r->pos == r->end || rd_fail(r, "section size mismatch");
}
