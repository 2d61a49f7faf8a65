#ifndef PORTCULLIS_CQRENCODE_SHIM_H
#define PORTCULLIS_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
