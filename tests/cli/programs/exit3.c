/* Leaves through exit(3) after printing, so the output must be flushed first. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("leaving with 3\n");
    exit(3);
}
