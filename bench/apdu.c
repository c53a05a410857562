/*
 * apdu: the shape of a card's command path. A stream of synthetic command
 * APDUs (ISO 7816-4 cases 1-4, short and extended lengths, BER-TLV data with
 * nested templates and a few malformed ones) is framed with 2-byte lengths
 * and then parsed byte by byte: a state machine for the header and one for
 * the TLVs, then a dispatch on INS that yields a status word.
 */
#include <stdbool.h>
#include <string.h>

#include "bench.h"

#define APDU_STREAM_SIZE (1u << 20)
#define APDU_MAX_DEPTH   8

static uint8_t stream[APDU_STREAM_SIZE];

/* ---- generation ------------------------------------------------------ */

static uint32_t put_length(uint8_t *out, uint32_t len) {
    uint32_t at = 0;
    if (len < 0x80u) {
        out[at++] = (uint8_t)len;
    } else if (len < 0x100u) {
        out[at++] = 0x81;
        out[at++] = (uint8_t)len;
    } else {
        out[at++] = 0x82;
        out[at++] = (uint8_t)(len >> 8);
        out[at++] = (uint8_t)len;
    }
    return at;
}

/*
 * Writes a TLV and returns its size: a template of up to 3 children at depth
 * 0 and 1, else a primitive of up to 179 bytes (39 inside a template); so a
 * TLV is at most 4 + 3 * (4 + 3 * 43) = 403 bytes.
 */
static uint32_t put_tlv(uint8_t *out, uint32_t *state, uint32_t depth) {
    uint8_t value[404];
    uint32_t len = 0, at = 0, pick = bench_next(state);
    bool constructed = depth < 2 && pick % 3 == 0;
    if (constructed) {
        uint32_t children = 1 + pick / 3 % 3;
        for (uint32_t i = 0; i < children; i++)
            len += put_tlv(value + len, state, depth + 1);
        out[at++] = pick & 0x100u ? 0x70 : 0xa5;
    } else {
        len = pick / 7 % (depth > 0 || pick & 0x200u ? 40u : 180u);
        for (uint32_t i = 0; i < len; i++)
            value[i] = (uint8_t)bench_next(state);
        if (pick & 0x400u) {
            out[at++] = pick & 0x800u ? 0x9f : 0x5f;
            out[at++] = (uint8_t)(0x01 + pick % 0x30u);
        } else {
            out[at++] = (uint8_t)(0x80 + pick % 0x1fu);
        }
    }
    at += put_length(out + at, len);
    memcpy(out + at, value, len);
    return at + len;
}

static const uint8_t instructions[] = {0xa4, 0xca, 0xda, 0x20, 0xb0, 0xe2, 0x44};

/* Fills the stream with framed APDUs; returns how many bytes it used. */
static uint32_t generate(uint32_t seed) {
    uint32_t state = seed, at = 0;
    for (;;) {
        uint8_t apdu[1300];
        uint32_t len = 0, pick = bench_next(&state);
        uint32_t kind = pick % 4; /* 0: case 1, 1: case 2, 2: case 3, 3: case 4 */
        bool extended = pick & 0x10u;
        apdu[len++] = pick % 16 == 5 ? 0x1f : (pick & 0x20u ? 0x80 : 0x00); /* 0x1f: bad CLA */
        apdu[len++] = instructions[pick / 128 % sizeof instructions];
        apdu[len++] = (uint8_t)(pick >> 16);
        apdu[len++] = (uint8_t)(pick >> 24);
        if (kind >= 2) {
            uint8_t data[3 * 404];
            uint32_t data_len = 0, count = 1 + pick / 1024 % 3;
            for (uint32_t i = 0; i < count; i++)
                data_len += put_tlv(data + data_len, &state, 0);
            if (pick % 97 == 0 && data_len > 2)
                data[1] = 0x84; /* a length form that is not allowed: malformed */
            if (!extended && data_len > 255)
                extended = true;
            if (extended) {
                apdu[len++] = 0;
                apdu[len++] = (uint8_t)(data_len >> 8);
            }
            apdu[len++] = (uint8_t)data_len;
            memcpy(apdu + len, data, data_len);
            len += data_len;
        }
        if (kind == 1 || kind == 3) {
            if (extended && kind == 1)
                apdu[len++] = 0;
            if (extended)
                apdu[len++] = 0x01;
            apdu[len++] = (uint8_t)(pick >> 8);
        }
        if (at + 2 + len > APDU_STREAM_SIZE)
            break;
        stream[at++] = (uint8_t)(len >> 8);
        stream[at++] = (uint8_t)len;
        memcpy(stream + at, apdu, len);
        at += len;
    }
    return at;
}

/* ---- parsing -------------------------------------------------------- */

typedef struct {
    uint8_t cla, ins, p1, p2;
    const uint8_t *data;
    uint32_t lc, le;
} command;

typedef struct {
    uint32_t tags, templates, value_sum;
} tlv_totals;

enum { TLV_TAG, TLV_TAG_MORE, TLV_LEN, TLV_LEN_MORE, TLV_VALUE };

/* Walks BER-TLV data with an explicit template stack; false when malformed. */
static bool walk_tlvs(const uint8_t *data, uint32_t len, tlv_totals *totals) {
    uint32_t ends[APDU_MAX_DEPTH], depth = 0, length = 0, length_bytes = 0, at = 0;
    int state = TLV_TAG;
    bool constructed = false;
    while (at < len) {
        uint8_t byte = data[at];
        while (depth > 0 && at >= ends[depth - 1])
            depth--;
        switch (state) {
        case TLV_TAG:
            totals->tags++;
            constructed = byte & 0x20u;
            state = (byte & 0x1fu) == 0x1fu ? TLV_TAG_MORE : TLV_LEN;
            at++;
            break;
        case TLV_TAG_MORE:
            state = byte & 0x80u ? TLV_TAG_MORE : TLV_LEN;
            at++;
            break;
        case TLV_LEN:
            at++;
            if (byte < 0x80u) {
                length = byte;
                state = TLV_VALUE;
            } else if (byte == 0x81u || byte == 0x82u) {
                length = 0;
                length_bytes = byte & 0x7fu;
                state = TLV_LEN_MORE;
            } else {
                return false;
            }
            break;
        case TLV_LEN_MORE:
            length = length << 8 | byte;
            at++;
            if (--length_bytes == 0)
                state = TLV_VALUE;
            break;
        default: /* TLV_VALUE: at is the first value byte */
            if (length > len - at || (depth > 0 && at + length > ends[depth - 1]))
                return false;
            if (constructed) {
                if (depth == APDU_MAX_DEPTH)
                    return false;
                totals->templates++;
                ends[depth++] = at + length;
            } else {
                for (uint32_t i = 0; i < length; i++)
                    totals->value_sum += data[at + i] * (i + 1u);
                at += length;
            }
            state = TLV_TAG;
            break;
        }
    }
    return state == TLV_TAG || (state == TLV_VALUE && length == 0 && !constructed);
}

/* Decodes the body after the 4 header bytes (ISO 7816-4 cases); false when inconsistent. */
static bool decode_body(const uint8_t *body, uint32_t len, command *cmd) {
    bool ok = true;
    cmd->lc = cmd->le = 0;
    cmd->data = body;
    if (len == 0) {
        /* case 1 */
    } else if (len == 1) {
        cmd->le = body[0] ? body[0] : 256;
    } else if (body[0] != 0 || len < 3) {
        cmd->lc = body[0];
        cmd->data = body + 1;
        if (len == 1 + cmd->lc + 1)
            cmd->le = body[len - 1] ? body[len - 1] : 256;
        else
            ok = len == 1 + cmd->lc && cmd->lc > 0;
    } else if (len == 3) {
        cmd->le = (uint32_t)body[1] << 8 | body[2];
    } else {
        cmd->lc = (uint32_t)body[1] << 8 | body[2];
        cmd->data = body + 3;
        if (len == 3 + cmd->lc + 2)
            cmd->le = (uint32_t)body[len - 2] << 8 | body[len - 1];
        else
            ok = len == 3 + cmd->lc && cmd->lc > 0;
    }
    return ok;
}

static uint16_t process(const command *cmd, tlv_totals *totals) {
    uint16_t sw = 0x9000;
    if (cmd->cla != 0x00 && cmd->cla != 0x80)
        return 0x6e00;
    if (cmd->lc > 0 && !walk_tlvs(cmd->data, cmd->lc, totals))
        return 0x6a80;
    switch (cmd->ins) {
    case 0xa4: /* SELECT: P1 selects by name only */
        sw = cmd->p1 == 0x04 || cmd->lc > 0 ? 0x9000 : 0x6a86;
        break;
    case 0xca: /* GET DATA: needs Le */
        sw = cmd->le ? 0x9000 : 0x6700;
        break;
    case 0xda: /* PUT DATA / STORE DATA: need data */
    case 0xe2:
        sw = cmd->lc ? 0x9000 : 0x6700;
        break;
    case 0x20: /* VERIFY: the "PIN" is right when the data sum is even */
        sw = totals->value_sum & 1u ? 0x63c2 : 0x9000;
        break;
    case 0xb0: /* READ BINARY: offset in P1-P2 below 0x8000 */
        sw = cmd->p1 & 0x80u ? 0x6b00 : 0x9000;
        break;
    default:
        sw = 0x6d00;
        break;
    }
    return sw;
}

enum { FRAME_LEN_HI, FRAME_LEN_LO, FRAME_CLA, FRAME_INS, FRAME_P1, FRAME_P2, FRAME_BODY };

/* Parses every framed APDU in stream[0..len) and folds the results into a checksum. */
static uint32_t parse_stream(uint32_t len) {
    uint32_t checksum = 0, frame = 0, at = 0, frame_end = 0;
    int state = FRAME_LEN_HI;
    command cmd = {0};
    tlv_totals totals = {0};
    while (at < len) {
        uint8_t byte = stream[at++];
        switch (state) {
        case FRAME_LEN_HI:
            frame = (uint32_t)byte << 8;
            state = FRAME_LEN_LO;
            break;
        case FRAME_LEN_LO:
            frame |= byte;
            frame_end = at + frame;
            if (frame < 4 || frame_end > len)
                at = len; /* a broken frame ends the stream */
            state = FRAME_CLA;
            break;
        case FRAME_CLA:
            cmd.cla = byte;
            state = FRAME_INS;
            break;
        case FRAME_INS:
            cmd.ins = byte;
            state = FRAME_P1;
            break;
        case FRAME_P1:
            cmd.p1 = byte;
            state = FRAME_P2;
            break;
        default: /* FRAME_P2: the rest of the frame is the body */
            cmd.p2 = byte;
            {
                uint16_t sw = decode_body(stream + at, frame_end - at, &cmd)
                                  ? process(&cmd, &totals)
                                  : 0x6700;
                checksum = checksum * 31u + sw + cmd.le;
            }
            at = frame_end;
            state = FRAME_LEN_HI;
            break;
        }
    }
    return checksum ^ totals.tags * 0x9e3779b9u ^ totals.templates ^ totals.value_sum;
}

int main(int argc, char **argv) {
    uint32_t rounds = bench_scale(argc, argv, 72);
    uint32_t checksum = 0, used = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        if (r % 8 == 0) {
            used = generate(0x51ed270bu + r);
            checksum ^= used;
        }
        checksum = checksum * 33u + parse_stream(used);
    }
    bench_report("apdu", checksum);
    return 0;
}
