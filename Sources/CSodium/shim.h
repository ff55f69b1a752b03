#ifndef BALLAST_CSODIUM_SHIM_H
#define BALLAST_CSODIUM_SHIM_H
#include <sodium.h>
#endif
