/* Shared by every fuzz target (fuzz/<name>.c).
 *
 * A target defines LLVMFuzzerTestOneInput and, when it needs one-time set-up,
 * LLVMFuzzerInitialize. It is linked twice: with clang's libFuzzer
 * (`make fuzz`, coverage-guided) and with fuzz/replay.c under gcc
 * ASan+UBSan (`make test` replays fuzz/corpus/<name> and fuzz/regress/<name>).
 *
 * A property violation is a crash: FUZZ_CHECK prints the property and aborts,
 * so libFuzzer saves the input and the replay fails.
 *
 * Extra libFuzzer flags for one target go on a line of its source:
 *   // fuzz-flags: -max_len=131072 -timeout=5
 */
#ifndef K8S_FUZZ_H
#define K8S_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz: property violated at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                    \
			fprintf(stderr, "fuzz: " __VA_ARGS__);                 \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* The next piece length (1..max) of a split chosen by the input: byte i of
 * `sel` (cycled) picks the size of piece i; sel_len 0 means pieces of 1. */
static inline size_t fuzz_piece(const uint8_t *sel, size_t sel_len, size_t i,
				size_t max)
{
	size_t n = sel_len ? (size_t)sel[i % sel_len] % (max ? max : 1) + 1 : 1;
	return n;
}

/* Whether s looks like a secret no fixed message text could hold by chance:
 * 16+ characters, each alphanumeric or in `also`, with an upper-case letter,
 * a lower-case letter and a digit (the secret-leak properties check only
 * such values). */
static inline int fuzz_distinctive(const char *s, const char *also)
{
	size_t n = strlen(s), i;
	int up = 0, lo = 0, dig = 0;
	if (n < 16)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			up = 1;
		else if (c >= 'a' && c <= 'z')
			lo = 1;
		else if (c >= '0' && c <= '9')
			dig = 1;
		else if (!c || !strchr(also, c))
			return 0;
	}
	return up && lo && dig;
}

#endif
