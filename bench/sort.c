/*
 * sort: comparison-heavy, branchy code over memory. Each round fills an
 * array with pseudo-random integers, sorts one copy with an introsort-like
 * quicksort (median of three, insertion sort for short runs) and another with
 * heap sort, checks both are sorted and equal, and folds them into the sum.
 */
#include "bench.h"

#define SORT_COUNT 100000u
#define SORT_SMALL 16u

static uint32_t keys[SORT_COUNT], quick[SORT_COUNT], heap[SORT_COUNT];

static void swap(uint32_t *x, uint32_t *y) {
    uint32_t held = *x;
    *x = *y;
    *y = held;
}

static void insertion_sort(uint32_t *items, uint32_t count) {
    for (uint32_t i = 1; i < count; i++) {
        uint32_t key = items[i], j = i;
        while (j > 0 && items[j - 1] > key) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = key;
    }
}

/* Sorts items[0..count) ascending; recurses on the smaller side only. */
static void quick_sort(uint32_t *items, uint32_t count) {
    while (count > SORT_SMALL) {
        uint32_t mid = count / 2, last = count - 1;
        if (items[mid] < items[0])
            swap(&items[mid], &items[0]);
        if (items[last] < items[0])
            swap(&items[last], &items[0]);
        if (items[last] < items[mid])
            swap(&items[last], &items[mid]);
        uint32_t pivot = items[mid];
        uint32_t i = 0, j = last;
        for (;;) {
            while (items[i] < pivot)
                i++;
            while (items[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap(&items[i], &items[j]);
            i++;
            j--;
        }
        uint32_t left = j + 1;
        if (left < count - left) {
            quick_sort(items, left);
            items += left;
            count -= left;
        } else {
            quick_sort(items + left, count - left);
            count = left;
        }
    }
    insertion_sort(items, count);
}

static void sift_down(uint32_t *items, uint32_t root, uint32_t count) {
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= count)
            break;
        if (child + 1 < count && items[child + 1] > items[child])
            child++;
        if (items[root] >= items[child])
            break;
        swap(&items[root], &items[child]);
        root = child;
    }
}

static void heap_sort(uint32_t *items, uint32_t count) {
    for (uint32_t i = count / 2; i-- > 0;)
        sift_down(items, i, count);
    for (uint32_t end = count; end-- > 1;) {
        swap(&items[0], &items[end]);
        sift_down(items, 0, end);
    }
}

int main(int argc, char **argv) {
    uint32_t rounds = bench_scale(argc, argv, 10);
    uint32_t state = 0x9e3779b9u, checksum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < SORT_COUNT; i++) {
            /* every fourth key repeats a small value: duplicates exercise the partition */
            keys[i] = i % 4 == 3 ? bench_next(&state) % 64u : bench_next(&state);
            quick[i] = heap[i] = keys[i];
        }
        quick_sort(quick, SORT_COUNT);
        heap_sort(heap, SORT_COUNT);
        for (uint32_t i = 0; i < SORT_COUNT; i++) {
            if (quick[i] != heap[i] || (i > 0 && quick[i - 1] > quick[i])) {
                printf("sort: results differ at %u\n", (unsigned)i);
                return 1;
            }
            checksum = checksum * 31u + (quick[i] ^ i);
        }
    }
    bench_report("sort", checksum);
    return 0;
}
