/* Compiled as C99 with -Wall -Wextra -pedantic -Werror: the header must be clean C. */
#include <memberlist/memberlist.h>

int ml_header_c99_probe(void);
int ml_header_c99_probe(void) { return ML_VERSION > 0 ? ML_OK : ML_ERR_INTERNAL; }
