#ifndef PORTCULLIS_CARGON2_SHIM_H
#define PORTCULLIS_CARGON2_SHIM_H
#include <argon2.h>
#endif
