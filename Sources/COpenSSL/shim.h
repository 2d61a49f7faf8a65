#ifndef PORTCULLIS_COPENSSL_SHIM_H
#define PORTCULLIS_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/rsa.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/hmac.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

/* Function-like macros do not import into Swift: wrap the ones we use. */
static inline void portcullis_openssl_free(void *p) { OPENSSL_free(p); }
/* Selection masks are compound macros: expose them as functions. */
static inline int portcullis_selection_keypair(void) { return EVP_PKEY_KEYPAIR; }
static inline int portcullis_selection_public_key(void) { return EVP_PKEY_PUBLIC_KEY; }
#endif
