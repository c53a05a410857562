/* Echoes its arguments (after argv[0]) one per line, then the environment size. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
    int envc = 0;
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **entry = environ; entry != NULL && *entry != NULL; entry++)
        envc++;
    printf("envc=%d\n", envc);
    return 0;
}
