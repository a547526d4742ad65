// The header compiled as C++ (extern "C" linkage, no C-only constructs).
#include <memberlist/memberlist.h>

int ml_header_cxx_probe();
int ml_header_cxx_probe() { return ML_VERSION > 0 ? ML_OK : ML_ERR_INTERNAL; }
