/*
 * The minimal dispatch repro's library (ffi-race.md §2.1; docs/FFI-MATRIX.md, cell type 1).
 * Test-only; tools/ffi-matrix builds it with `cc -O2 -shared -fPIC`.
 *
 * tag_alloc returns a new malloc'd, NUL-terminated decimal text of its argument: a result that
 * is provably derived from the argument, so a caller can tell its own result from another
 * call's. tag_free frees it (a void function: on an affected purego it leaves a stale value in
 * the pooled result slot, which shows up as a nil or garbage result elsewhere).
 */
#include <stdint.h>
#include <stdlib.h>

uint8_t *tag_alloc(uint64_t seed) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + seed % 10);
        seed /= 10;
    } while (seed != 0);
    uint8_t *p = malloc((size_t)n + 1);
    if (p == NULL) {
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)digits[n - 1 - i];
    }
    p[n] = 0;
    return p;
}

void tag_free(uint8_t *p) { free(p); }
